/**
 * The per-user state hash as a use case: changes from services (an envelope's `state`, the
 * HTTP route under a service credential), each applied once per idempotency id; the view a
 * user reads; and the `state` frame, pushed to every live connection of the user after each
 * change and posted to a new connection once it is open (the welcome).
 */
import type { Identity } from './model';
import type { Clock, OwnerInbox, UserStateStore } from './ports';
import type { Problem, Pusher } from './push';
import { applyChange, type StateChange, type StateView, stateFrame, stateView } from './user-state';

export interface UserStateDeps {
  store: UserStateStore;
  /** Where the unread count comes from (the inbox's count of its unread index). */
  counts: Pick<OwnerInbox, 'counts'>;
  pusher: Pick<Pusher, 'pushToUser' | 'post'>;
  clock: Clock;
  /** How long an idempotency id is remembered. */
  idempotencySeconds: number;
  /** Told of a state push that failed; the change itself stands. */
  onPushProblem?: (problem: Problem) => void;
}

export type StateOwner = Pick<Identity, 'tenant' | 'userId'>;

export interface ChangeResult extends StateView {
  /** False when this id had applied before: the view is the current one, nothing changed. */
  applied: boolean;
}

/** What posting the welcome frame found. `gone`: API Gateway does not know the connection (yet). */
export type WelcomeOutcome = 'delivered' | 'gone' | 'failed';

export type UserStateService = ReturnType<typeof createUserStateService>;

export function createUserStateService(deps: UserStateDeps) {
  const report = deps.onPushProblem ?? (() => undefined);

  async function view(owner: StateOwner): Promise<StateView> {
    const [app, counts] = await Promise.all([
      deps.store.read(owner.tenant, owner.userId),
      deps.counts.counts(owner.tenant, owner.userId),
    ]);
    return stateView(app, counts);
  }

  /** Best effort: a failed push never fails the change; the client can ask for `state`. */
  async function announce(owner: StateOwner, current: StateView): Promise<void> {
    try {
      const outcome = await deps.pusher.pushToUser(owner.tenant, owner.userId, stateFrame(current));
      for (const problem of outcome.problems) report(problem);
      for (const { connectionId } of outcome.failed) {
        report({ what: `state push to ${connectionId}`, error: new Error('push kept failing') });
      }
    } catch (error) {
      report({ what: 'state push', error });
    }
  }

  return {
    view,

    /**
     * Applies the change once per `id` (a retry with the same id changes nothing and returns
     * the current view) and pushes the new state to the user's connections. Throws a
     * StateRefusedError when the change breaks a limit or increments a non-number.
     */
    async change(owner: StateOwner, id: string, change: StateChange): Promise<ChangeResult> {
      const now = deps.clock.now();
      const marker = { id, now, expiresAt: Math.floor(now / 1000) + deps.idempotencySeconds };
      const { applied, state } = await deps.store.apply(owner.tenant, owner.userId, marker, (app) =>
        applyChange(app, change),
      );
      const current = stateView(state, await deps.counts.counts(owner.tenant, owner.userId));
      if (applied) await announce(owner, current);
      return { ...current, applied };
    },

    /** Posts the user's state to one connection: the frame every connection gets on connect. */
    async welcome(owner: StateOwner, connectionId: string): Promise<WelcomeOutcome> {
      const frame = stateFrame(await view(owner));
      const result = await deps.pusher.post([{ connectionId, userId: owner.userId }], frame);
      if (result.delivered.length > 0) return 'delivered';
      if (result.gone.length > 0) return 'gone';
      return 'failed';
    },
  };
}
