/**
 * The notifications table's sparse local secondary indexes: the one definition the CDK
 * stack and the local stack both build them from, so the two cannot differ.
 *
 * Each index holds exactly the rows that carry its sort key, and a row's index keys are
 * written in the same write as its flags (`functions/adapters/dynamo-inbox-flags.ts`
 * derives them), so DynamoDB keeps every index equal to its rows at every moment. Local, so
 * each can be read strongly consistent: a count is a Query COUNT of an index, never a
 * counter beside the rows that could drift. A key holds the row's own sort key (`N#{id}`),
 * so every index reads newest first, as the table does.
 *
 * - `unread`:  !read && !archived && !snoozed  (the unread count, unread-only lists)
 * - `unseen`:  !seen && !archived && !snoozed  (the bell's count, "seen all")
 * - `visible`: !archived && !snoozed           (the default list, without archived rows)
 * - `hidden`:  archived || snoozed             (the archived and the snoozed lists)
 *
 * Four of DynamoDB's five local indexes per table: one stays free. An LSI can only be
 * created with its table, so adding one replaces the table (see README, "Upgrading").
 */
import { TABLE_KEYS } from './topology';

export const INBOX_INDEXES = {
  unread: { name: 'unread', sortKey: 'unreadKey' },
  unseen: { name: 'unseen', sortKey: 'unseenKey' },
  visible: { name: 'visible', sortKey: 'visibleKey' },
  hidden: { name: 'hidden', sortKey: 'hiddenKey' },
} as const;

export type InboxIndexName = keyof typeof INBOX_INDEXES;

/**
 * The row attributes every index projects besides the keys: what the filters and the
 * counts read (so a filtered count never fetches the base row), the flags a bulk action
 * conditions its writes on, and the expiry every reader checks.
 */
export const INBOX_INDEX_PROJECTION = [
  TABLE_KEYS.ttlAttribute,
  'type',
  'topic',
  'tags',
  'read',
  'seen',
  'archived',
  'interacted',
  'snoozedUntil',
] as const;

/** Every index, as a list, in a fixed order. */
export const INBOX_INDEX_LIST = Object.values(INBOX_INDEXES);
