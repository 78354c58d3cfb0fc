/**
 * An envelope's `state`: applied to each recipient's hash once per envelope id (a
 * redelivery or a re-publish changes nothing), each change pushed to the user's connections
 * as a `state` frame. A change the hash refuses (a limit, `incr` on a non-number) can never
 * succeed as published, so the envelope goes to the DLQ with the reason; recipients whose
 * change applied keep it (a redrive applies only to the rest).
 */
import { InvalidEnvelopeError } from './errors';
import { mapLimited } from './limiter';
import type { Envelope } from './model';
import { StateRefusedError } from './user-state';
import type { UserStateService } from './user-state-service';

export function createStateFanOut(deps: { states: UserStateService; concurrency: number }) {
  return async function applyState(envelope: Envelope): Promise<void> {
    const { state } = envelope;
    if (state === undefined || !('users' in envelope.to)) return;
    const refusals: string[] = [];
    await mapLimited(envelope.to.users, deps.concurrency, async (userId) => {
      try {
        await deps.states.change({ tenant: envelope.tenant, userId }, envelope.id, state);
      } catch (error) {
        if (!(error instanceof StateRefusedError)) throw error;
        refusals.push(error.message);
      }
    });
    if (refusals.length === 0) return;
    const users = envelope.to.users.length;
    throw new InvalidEnvelopeError(
      `invalid envelope: state refused for ${refusals.length} of ${users} users: ${refusals[0]}`,
    );
  };
}
