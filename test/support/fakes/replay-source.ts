import type { Notification, Recipient } from '#core/model';
import type { ReplaySource } from '#core/ports';
import { recipientKey } from './recipients';

/**
 * Recipients' histories in memory, sorted by id; `queries` records each forward read.
 * `add` stands for the fan-out filing notifications, whose items `DynamoReplaySource` reads.
 */
export class FakeReplaySource implements ReplaySource {
  readonly histories = new Map<string, Notification[]>();
  readonly queries: Array<{ recipient: string; afterId: string; limit: number }> = [];

  add(recipient: Recipient, ...notifications: Notification[]): void {
    const key = recipientKey(recipient);
    const history = [...(this.histories.get(key) ?? []), ...notifications];
    this.histories.set(
      key,
      history.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    );
  }
  /** Its owner deleting a notification: gone from the history, as its tombstone is skipped. */
  remove(recipient: Recipient, id: string): void {
    const key = recipientKey(recipient);
    this.histories.set(
      key,
      (this.histories.get(key) ?? []).filter((n) => n.id !== id),
    );
  }
  async has(recipient: Recipient, id: string): Promise<boolean> {
    return (this.histories.get(recipientKey(recipient)) ?? []).some((n) => n.id === id);
  }
  async after(recipient: Recipient, afterId: string, limit: number): Promise<Notification[]> {
    const key = recipientKey(recipient);
    this.queries.push({ recipient: key, afterId, limit });
    return (this.histories.get(key) ?? [])
      .filter((n) => n.id > afterId)
      .slice(0, limit)
      .map((n) => ({ ...n }));
  }
}
