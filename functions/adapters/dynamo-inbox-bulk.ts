/**
 * A bulk action over a user's inbox (`POST /notifications/bulk`): every notification a
 * filter selects, with id at most `upTo`, read, seen, archived, unarchived or deleted.
 *
 * It reads the one sparse index the filter plans (`dynamo-inbox-filters.ts`), narrowed to
 * what still needs the action (`read` reads the unread index, `seen` the unseen one), a
 * page of small projected entries at a time, and writes each entry's row with the
 * conditional write a single change uses, BULK_IN_FLIGHT at a time, the flags it conditions
 * on taken from the entry (no read of the row). A row changed meanwhile fails its condition
 * and is derived again from what is there; a repeat finds nothing left to change. So a
 * retry is safe and the counts (Queries of the indexes) stay exact throughout.
 *
 * `upTo` fixes the set: the newest selected id when it starts, unless the caller gives it;
 * one filed later is not touched. Past its `deadline` it stops after the page in hand and
 * hands back a cursor (the last row key done), to be called again with it and `upTo`.
 */
import type { INBOX_INDEXES } from '#config/inbox-indexes';
import type { InboxFilter } from '#core/inbox-filter';
import type { BulkAction, BulkOutcome, BulkRequest, InboxChange } from '#core/ports';
import { planOf } from './dynamo-inbox-filters';
import type { Flags } from './dynamo-inbox-flags';
import {
  decodeCursor,
  encodeCursor,
  NOTIFICATION_PREFIX,
  notificationSortKey,
} from './dynamo-keys';
import type { IndexKey, SparseIndex } from './dynamo-unread-index';

/** Conditional writes in flight at once in one bulk action. */
export const BULK_IN_FLIGHT = 50;
/** Index entries one page of a bulk action reads (projected entries: a few read units). */
export const BULK_PAGE = 500;

export interface BulkDeps {
  indexes: Record<keyof typeof INBOX_INDEXES, SparseIndex>;
  /** Applies the action to one row, given the flags its index entry holds. */
  applyOne: (pk: string, id: string, flags: Flags) => Promise<InboxChange>;
  now: () => number;
}

/** What still needs the action among what `filter` selects; undefined when nothing can. */
export function narrowed(action: BulkAction, filter: InboxFilter): InboxFilter | undefined {
  switch (action) {
    case 'read':
      return filter.read === true ? undefined : { ...filter, read: false };
    case 'seen':
      return filter.seen === true ? undefined : { ...filter, seen: false };
    case 'archive':
      return filter.archived === true ? undefined : filter;
    case 'unarchive':
      return filter.archived === true ? filter : undefined;
    case 'delete':
      return filter;
  }
}

export async function runBulk(
  deps: BulkDeps,
  pk: string,
  request: BulkRequest,
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { matched: 0, changed: 0, unreadDelta: 0, unseenDelta: 0 };
  const filter = narrowed(request.action, request.filter);
  if (filter === undefined) return request.upTo ? { ...outcome, upTo: request.upTo } : outcome;
  const plan = planOf(filter);
  const index = deps.indexes[plan.index];
  const upTo = request.upTo ?? (await newestId(index, pk, deps.now()));
  if (upTo === undefined) return outcome;
  outcome.upTo = upTo;
  const resumed = decodeCursor(request.cursor, { pk, skPrefix: NOTIFICATION_PREFIX });
  let start: IndexKey | undefined = resumed && index.startAt(pk, resumed.sk);
  do {
    const page = await index.entries(pk, deps.now(), {
      start,
      limit: BULK_PAGE,
      filter: plan.filter,
      upTo: notificationSortKey(upTo),
    });
    for (let i = 0; i < page.entries.length; i += BULK_IN_FLIGHT) {
      const chunk = page.entries.slice(i, i + BULK_IN_FLIGHT);
      const changes = await Promise.all(chunk.map(({ id, flags }) => deps.applyOne(pk, id, flags)));
      for (const change of changes) {
        outcome.changed += change.changed ?? 0;
        outcome.unreadDelta += change.unreadDelta;
        outcome.unseenDelta += change.unseenDelta ?? 0;
      }
    }
    outcome.matched += page.entries.length;
    start = page.next;
    const last = page.entries.at(-1);
    if (start !== undefined && deps.now() >= request.deadline) {
      const sk = last ? notificationSortKey(last.id) : String(start.sk);
      return { ...outcome, cursor: encodeCursor({ pk, sk }) };
    }
  } while (start !== undefined);
  return outcome;
}

/** The newest unexpired id the index holds for the partition, or undefined when it holds none. */
async function newestId(
  index: SparseIndex,
  pk: string,
  nowMs: number,
): Promise<string | undefined> {
  let start: IndexKey | undefined;
  do {
    // Expired rows (TTL not yet run) are filtered after the limit: read on past them.
    const page = await index.entries(pk, nowMs, { limit: 25, start });
    if (page.entries[0]) return page.entries[0].id;
    start = page.next;
  } while (start !== undefined);
  return undefined;
}
