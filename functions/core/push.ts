/**
 * Push and prune, Herald's one way to send a frame to sockets: post it to connections
 * (bounded by a limiter shared with whatever else the invocation posts, throttling and 5xx
 * retried with backoff), then remove the connections API Gateway reports gone (410) so
 * that nothing posts to them again. The fan-out, inbox state and presence all push here.
 */
import { listAllForUser } from './connections';
import { type DeliverDeps, deliverFrame } from './deliver';
import { mapLimited } from './limiter';
import type { ConnectionRef } from './model';
import type { ConnectionStore } from './ports';

export interface PusherDeps extends DeliverDeps {
  connections: Pick<ConnectionStore, 'listForUser' | 'remove'>;
  /** Removals of gone connections in flight at once. */
  pruneConcurrency: number;
}

/** A failure that did not fail the work it happened in; for the caller to report. */
export interface Problem {
  what: string;
  error: unknown;
}

export interface Pruning {
  /** Gone connections removed from the store. */
  pruned: number;
  /** Gone connections that could not be removed: their TTL removes them later. */
  problems: Problem[];
}

export interface PushOutcome extends Pruning {
  delivered: ConnectionRef[];
  /** Connections still failing after every retry: for the caller to hand on or report. */
  failed: ConnectionRef[];
}

export function createPusher(deps: PusherDeps) {
  /** Posts without pruning: for a caller that prunes later, e.g. after its last page. */
  function post(connections: readonly ConnectionRef[], frame: string) {
    return deliverFrame(connections, frame, deps);
  }

  /** Removes connections found gone; a failed removal is a problem, not a failure. */
  async function prune(gone: readonly ConnectionRef[]): Promise<Pruning> {
    const pruning: Pruning = { pruned: 0, problems: [] };
    await mapLimited(gone, deps.pruneConcurrency, async ({ connectionId }) => {
      try {
        await deps.connections.remove(connectionId);
        pruning.pruned++;
      } catch (error) {
        pruning.problems.push({ what: `prune ${connectionId}`, error });
      }
    });
    return pruning;
  }

  /** Posts the frame to each connection, then prunes the gone ones. */
  async function push(connections: readonly ConnectionRef[], frame: string): Promise<PushOutcome> {
    const { delivered, gone, failed } = await post(connections, frame);
    return { delivered, failed, ...(await prune(gone)) };
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
