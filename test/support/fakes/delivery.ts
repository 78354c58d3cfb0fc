import { ConnectionGoneError } from '#core/errors';
import type { Delivery } from '#core/ports';

/** Records every post; `behaviour` decides per connection what each attempt does. */
export class FakeDelivery implements Delivery {
  readonly posts: Array<{ connectionId: string; data: string }> = [];
  inFlight = 0;
  maxInFlight = 0;
  behaviour: (connectionId: string, attempt: number) => 'ok' | 'gone' | Error = () => 'ok';
  /** Shared with other fakes to record the order of side effects (`post <id>`). */
  journal: string[] | undefined;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly latencyMs = 0) {}

  /** How many times a post to this connection was tried. */
  attemptsOf(connectionId: string): number {
    return this.attempts.get(connectionId) ?? 0;
  }

  async post(connectionId: string, data: string): Promise<void> {
    const attempt = (this.attempts.get(connectionId) ?? 0) + 1;
    this.attempts.set(connectionId, attempt);
    this.journal?.push(`post ${connectionId}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const outcome = this.behaviour(connectionId, attempt);
      if (outcome === 'gone') throw new ConnectionGoneError(connectionId);
      if (outcome instanceof Error) throw outcome;
      this.posts.push({ connectionId, data });
    } finally {
      this.inFlight--;
    }
  }

  delivered(connectionId: string): unknown[] {
    return this.posts.filter((p) => p.connectionId === connectionId).map((p) => JSON.parse(p.data));
  }
}
