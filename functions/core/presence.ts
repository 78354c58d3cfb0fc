/**
 * Presence (after Daheim): a user is online while they hold at least one live connection.
 * Changes are pushed as `{"type":"presence","user","online"}` to the connections
 * subscribed to the topic `presence.<user>`, which the normal `subscribe` grants only
 * under the token's `topics` patterns (e.g. `presence.*`); the `presence` query asks for
 * the same grant per user (checked by the message handler).
 *
 * Topic tokens are `[A-Za-z0-9_-]+` while user ids are free-form, so only a user id that
 * is itself one topic token has a presence topic; other users can be neither watched nor
 * asked about. Change pushes are best effort (API Gateway's `$disconnect` is, too): the
 * query is the truth, the pushes keep it fresh.
 */
import { isUserOnline, openConnection } from './connections';
import { DEFAULT_RETRY, type RetryPolicy } from './deliver';
import { encodeFrame } from './frames';
import { createLimiter, mapLimited } from './limiter';
import type { ConnectionRef, Identity, Page } from './model';
import type { Clock, ConnectionStore, Delivery } from './ports';
import { createPusher, type Problem } from './push';
import { presenceTopic } from './topics';

export interface PresenceSettings {
  /** PostToConnection calls in flight while announcing a change. */
  concurrency: number;
  /** Watchers (topic subscribers) per page. */
  pageSize: number;
  /** Users of one query looked up in parallel. */
  queryConcurrency: number;
  retry: RetryPolicy;
}

export const DEFAULT_PRESENCE_SETTINGS: PresenceSettings = {
  concurrency: 16,
  pageSize: 500,
  queryConcurrency: 10,
  retry: DEFAULT_RETRY,
};

export interface PresenceDeps {
  connections: ConnectionStore;
  delivery: Delivery;
  clock: Clock;
  settings: PresenceSettings;
  random?: () => number;
}

/** What a connect or disconnect told the watchers; for the handler to log. */
export interface PresenceReport {
  /** Whether the user's presence changed, i.e. a `presence` frame went out. */
  announced: boolean;
  delivered: number;
  pruned: number;
  failed: number;
  problems: Problem[];
}

function quietReport(): PresenceReport {
  return { announced: false, delivered: 0, pruned: 0, failed: 0, problems: [] };
}

export function createPresence(deps: PresenceDeps) {
  const { settings } = deps;
  const pusher = createPusher({
    connections: deps.connections,
    delivery: deps.delivery,
    limiter: createLimiter(settings.concurrency),
    clock: deps.clock,
    retry: settings.retry,
    random: deps.random,
    pruneConcurrency: settings.concurrency,
  });

  async function firstWatchers(tenant: string, topic: string) {
    return deps.connections.listForTopic(tenant, topic, { limit: settings.pageSize });
  }

  /** A page that is empty but continues may only have held expired items: look further. */
  function anyone(page: Page<ConnectionRef>): boolean {
    return page.items.length > 0 || page.cursor !== undefined;
  }

  /** Pushes the change to every watcher, page by page, then prunes the ones API Gateway lost. */
  async function announce(
    tenant: string,
    userId: string,
    topic: string,
    online: boolean,
    first: Page<ConnectionRef>,
  ): Promise<PresenceReport> {
    const report: PresenceReport = { ...quietReport(), announced: true };
    const frame = encodeFrame({ type: 'presence', user: userId, online });
    const gone: ConnectionRef[] = [];
    const expired: ConnectionRef[] = [];
    let page = first;
    for (;;) {
      const result = await pusher.post(page.items, frame);
      report.delivered += result.delivered.length;
      report.failed += result.failed.length;
      gone.push(...result.gone);
      expired.push(...result.expired);
      if (page.cursor === undefined) break;
      page = await deps.connections.listForTopic(tenant, topic, {
        cursor: page.cursor,
        limit: settings.pageSize,
      });
    }
    // After the last page, so pruning never disturbs the listing it came from.
    const { pruned, problems } = await pusher.prune(gone, expired);
    report.pruned = pruned;
    report.problems.push(...problems);
    return report;
  }

  /** Runs a change's announcement without letting it fail the connect or disconnect. */
  async function safely(work: () => Promise<PresenceReport>): Promise<PresenceReport> {
    try {
      return await work();
    } catch (error) {
      return { ...quietReport(), problems: [{ what: 'presence', error }] };
    }
  }

  return {
    /** Who of `users` (in the caller's tenant) is online now. */
    async query(tenant: string, users: string[]): Promise<Record<string, boolean>> {
      const unique = [...new Set(users)];
      const online = await mapLimited(unique, settings.queryConcurrency, (userId) =>
        isUserOnline(deps.connections, tenant, userId),
      );
      // fromEntries defines own properties, so a user called `__proto__` is just a key.
      return Object.fromEntries(unique.map((userId, index) => [userId, online[index] === true]));
    },

    /**
     * `$connect`: records the connection, and announces the user online when it is their
     * first. Watchers are looked up first, so a user nobody watches costs one Query; "was
     * online" is read before the write, so of two simultaneous first connections at least
     * one announces (a duplicate is harmless, a miss is not).
     */
    async connect(
      identity: Identity,
      connectionId: string,
      connectedAt: number,
    ): Promise<PresenceReport> {
      const { tenant, userId } = identity;
      const topic = presenceTopic(userId);
      let watchers: Page<ConnectionRef> | undefined;
      const problems: PresenceReport['problems'] = [];
      try {
        if (topic !== undefined) {
          const first = await firstWatchers(tenant, topic);
          if (anyone(first)) {
            const except = connectionId;
            if (!(await isUserOnline(deps.connections, tenant, userId, { except }))) {
              watchers = first;
            }
          }
        }
      } catch (error) {
        // Presence is a courtesy: it never keeps a user from connecting.
        problems.push({ what: 'presence lookup', error });
      }
      await openConnection(deps.connections, identity, connectionId, connectedAt);
      if (watchers === undefined || topic === undefined) return { ...quietReport(), problems };
      const audience = watchers;
      return safely(() => announce(tenant, userId, topic, true, audience));
    },

    /**
     * `$disconnect`: removes the connection, and announces the user offline when it was
     * their last. Read after the removal, so of two simultaneous last disconnects at least
     * one announces.
     */
    async disconnect(
      connectionId: string,
      identity: Identity | undefined,
    ): Promise<PresenceReport> {
      await deps.connections.remove(connectionId);
      if (identity === undefined) return quietReport();
      const { tenant, userId } = identity;
      const topic = presenceTopic(userId);
      if (topic === undefined) return quietReport();
      return safely(async () => {
        const watchers = await firstWatchers(tenant, topic);
        if (!anyone(watchers)) return quietReport();
        const except = connectionId;
        if (await isUserOnline(deps.connections, tenant, userId, { except })) return quietReport();
        return announce(tenant, userId, topic, false, watchers);
      });
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
