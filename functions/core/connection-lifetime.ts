/**
 * A connection lives as long as its token: the sweep closes the connections whose token ran
 * out (the push path closes them lazily too, see `push.ts`), and an operator or publisher
 * can cut a user off, closing every connection they hold.
 */
import { listAllForUser } from './connections';
import { mapLimited } from './limiter';
import type { Clock, ConnectionLifetimes, ConnectionStore, Disconnector } from './ports';
import type { Problem } from './push';

export interface CloseDeps {
  connections: Pick<ConnectionStore, 'get' | 'remove' | 'listForUser'>;
  disconnector: Disconnector;
  /** Closes in flight at once. */
  concurrency: number;
}

export interface SweepDeps extends CloseDeps {
  lifetimes: Pick<ConnectionLifetimes, 'expiringIn'>;
  clock: Clock;
  /**
   * Minutes before the current one read again: a sweep that failed or ran late leaves
   * nothing behind for longer than this. Connections closed are removed from the list.
   */
  lookbackMinutes: number;
}

export interface CloseReport {
  /** Connections closed at API Gateway and removed. */
  closed: string[];
  /** Closes that failed; the connection keeps its record, so a later sweep tries again. */
  problems: Problem[];
}

export const DEFAULT_SWEEP_LOOKBACK_MINUTES = 10;
export const DEFAULT_CLOSE_CONCURRENCY = 8;

/** Closes one connection at API Gateway, then removes its records (in that order: see `CloseReport`). */
async function close(deps: CloseDeps, connectionId: string, report: CloseReport): Promise<void> {
  try {
    await deps.disconnector.disconnect(connectionId);
    await deps.connections.remove(connectionId);
    report.closed.push(connectionId);
  } catch (error) {
    report.problems.push({ what: `close ${connectionId}`, error });
  }
}

/**
 * Closes every connection whose token has expired by now, minute by minute from
 * `lookbackMinutes` ago, each minute one Query (paged). A listed connection whose entry
 * holds a later expiry (a `refresh` moved it) or that is gone is left alone.
 */
export async function sweepExpiredConnections(deps: SweepDeps): Promise<CloseReport> {
  const report: CloseReport = { closed: [], problems: [] };
  const now = Math.floor(deps.clock.now() / 1000);
  const thisMinute = Math.floor(now / 60);
  for (let minute = thisMinute - deps.lookbackMinutes; minute <= thisMinute; minute++) {
    let cursor: string | undefined;
    do {
      const page = await deps.lifetimes.expiringIn(minute, cursor);
      const due = page.items.filter((item) => item.tokenExpiresAt <= now);
      await mapLimited(due, deps.concurrency, async ({ connectionId }) => {
        const connection = await deps.connections.get(connectionId);
        const held = connection?.tokenExpiresAt;
        if (connection === undefined || held === undefined || held > now) return;
        await close(deps, connectionId, report);
      });
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return report;
}

/** Closes every connection a user holds now (README "Cutting a user off"). */
export async function cutOffUser(
  deps: CloseDeps,
  tenant: string,
  userId: string,
): Promise<CloseReport> {
  const report: CloseReport = { closed: [], problems: [] };
  const connections = await listAllForUser(deps.connections, tenant, userId);
  await mapLimited(connections, deps.concurrency, ({ connectionId }) =>
    close(deps, connectionId, report),
  );
  return report;
}
