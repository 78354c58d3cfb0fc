/**
 * Push and prune, Herald's one way to send a frame to sockets: post it to connections
 * (bounded by a limiter shared with whatever else the invocation posts, throttling and 5xx
 * retried with backoff), then remove the connections API Gateway reports gone (410) so
 * that nothing posts to them again. The fan-out, inbox state and presence all push here.
 * A connection whose token has expired is never posted to: it is closed (DeleteConnection)
 * and removed, as lazily as the sweep would, but at the first push that finds it.
 */
import { listAllForUser } from './connections';
import { type DeliverDeps, type DeliveryResult, deliverFrame } from './deliver';
import { mapLimited } from './limiter';
import type { ConnectionRef } from './model';
import type { ConnectionStore, Delivery, Disconnector } from './ports';

export interface PusherDeps extends DeliverDeps {
  connections: Pick<ConnectionStore, 'listForUser' | 'remove' | 'get'>;
  /** Removals of gone connections in flight at once. */
  pruneConcurrency: number;
  /**
   * Closes connections whose token expired. By default the delivery, when it can (API
   * Gateway's can: posting and closing are one management API); without either they are
   * skipped and their records removed.
   */
  disconnector?: Disconnector;
}

/** A failure that did not fail the work it happened in; for the caller to report. */
export interface Problem {
  what: string;
  error: unknown;
}

export interface Pruning {
  /** Gone connections removed from the store. */
  pruned: number;
  /** Connections whose token had expired, closed and removed. */
  closed: number;
  /** Gone connections that could not be removed: their TTL removes them later. */
  problems: Problem[];
}

export interface PushOutcome extends Pruning {
  delivered: ConnectionRef[];
  /** Connections still failing after every retry: for the caller to hand on or report. */
  failed: ConnectionRef[];
}

/** What a post did: `expired` connections (token run out) were not posted to. */
export interface PostResult extends DeliveryResult {
  expired: ConnectionRef[];
}

function disconnectorOf(delivery: Delivery): Disconnector | undefined {
  const { disconnect } = delivery as Partial<Disconnector>;
  return typeof disconnect === 'function'
    ? { disconnect: (id) => disconnect.call(delivery, id) }
    : undefined;
}

export function createPusher(deps: PusherDeps) {
  const disconnector = deps.disconnector ?? disconnectorOf(deps.delivery);

  /**
   * Splits off the connections whose token expired. A listing entry's expiry is a hint a
   * `refresh` may have outdated, so one past it is checked against the connection entry.
   */
  async function screen(connections: readonly ConnectionRef[]) {
    const now = Math.floor(deps.clock.now() / 1000);
    const suspect = (ref: ConnectionRef) =>
      ref.tokenExpiresAt !== undefined && ref.tokenExpiresAt <= now;
    const live = connections.filter((ref) => !suspect(ref));
    const expired: ConnectionRef[] = [];
    const suspects = connections.filter(suspect);
    if (suspects.length === 0) return { live, expired };
    await mapLimited(suspects, deps.pruneConcurrency, async (ref) => {
      const held = (await deps.connections.get(ref.connectionId))?.tokenExpiresAt;
      if (held !== undefined && held > now) live.push({ ...ref, tokenExpiresAt: held });
      else expired.push(ref);
    });
    return { live, expired };
  }

  /** Posts without pruning: for a caller that prunes later, e.g. after its last page. */
  async function post(connections: readonly ConnectionRef[], frame: string): Promise<PostResult> {
    const { live, expired } = await screen(connections);
    return { ...(await deliverFrame(live, frame, deps)), expired };
  }

  /**
   * Removes connections found gone, and closes then removes those whose token expired; a
   * failure is a problem, not a failure. One that could not be closed keeps its record, so
   * the sweep tries again.
   */
  async function prune(
    gone: readonly ConnectionRef[],
    expired: readonly ConnectionRef[] = [],
  ): Promise<Pruning> {
    const pruning: Pruning = { pruned: 0, closed: 0, problems: [] };
    const work = [
      ...gone.map((ref) => ({ ref, close: false })),
      ...expired.map((ref) => ({ ref, close: true })),
    ];
    await mapLimited(work, deps.pruneConcurrency, async ({ ref: { connectionId }, close }) => {
      try {
        if (close) await disconnector?.disconnect(connectionId);
        await deps.connections.remove(connectionId);
        if (close) pruning.closed++;
        else pruning.pruned++;
      } catch (error) {
        pruning.problems.push({ what: `${close ? 'close' : 'prune'} ${connectionId}`, error });
      }
    });
    return pruning;
  }

  /** Posts the frame to each connection, then prunes the gone ones and closes the expired. */
  async function push(connections: readonly ConnectionRef[], frame: string): Promise<PushOutcome> {
    const { delivered, gone, failed, expired } = await post(connections, frame);
    return { delivered, failed, ...(await prune(gone, expired)) };
  }

  return {
    post,
    prune,
    push,
    /** Pushes the frame to every live connection of one user. */
    async pushToUser(tenant: string, userId: string, frame: string): Promise<PushOutcome> {
      return push(await listAllForUser(deps.connections, tenant, userId), frame);
    },
  };
}

export type Pusher = ReturnType<typeof createPusher>;
