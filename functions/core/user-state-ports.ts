/**
 * The port of the per-user state hash (`./user-state`). Re-exported by `./ports` beside
 * the others.
 */
import type { AppState } from './user-state';

/** A change's idempotency key (an envelope id, or the HTTP route's `id`) and its horizon. */
export interface StateMarker {
  id: string;
  /** Now (ms): a marker whose `expiresAt` is not after it has run out. */
  now: number;
  /** When the marker goes (epoch s, TTL): the end of the idempotency horizon. */
  expiresAt: number;
}

/** What applying a change did: `applied` is false when the marker's id had applied before. */
export interface StateApplied {
  applied: boolean;
  state: AppState;
}

/** One item per user holding their app keys; each change applies once per marker id. */
export interface UserStateStore {
  /** The user's app keys (empty when they have none). */
  read(tenant: string, userId: string): Promise<AppState>;
  /**
   * Writes `next(current)` and a marker for `marker.id` together, unless the marker is
   * there already (the change applied before: nothing is written). Concurrent changes of
   * one user serialise: `next` sees the hash as it is when the write lands, so increments
   * are never lost. Whatever `next` throws (a refused change) is thrown unless the marker
   * is there.
   */
  apply(
    tenant: string,
    userId: string,
    marker: StateMarker,
    next: (current: AppState) => AppState,
  ): Promise<StateApplied>;
}

/**
 * A new connection to post the user's `state` frame to, once API Gateway has opened it
 * (`$connect` itself cannot post to its own connection). `attempt` counts from 0.
 */
export interface WelcomeTask {
  tenant: string;
  userId: string;
  connectionId: string;
  attempt: number;
}

/** Hands welcomes to the fan-out, through its queue. */
export interface Welcomes {
  enqueue(task: WelcomeTask, delaySeconds?: number): Promise<void>;
}
