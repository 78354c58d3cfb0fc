/**
 * `OwnerInbox` over the notifications table: a user's own view of what the fan-out filed
 * (`U#{tenant}#{userId}` / `N#{id}`, or a topic's history), newest first, with its flags
 * (read, seen, archived, interacted) and deletion. Ids sort by time, so a partition read
 * backwards is newest first.
 *
 * No count is kept anywhere: each is a consistent Query COUNT of one of the table's sparse
 * indexes, which DynamoDB updates in the same write as the row (see
 * `functions/config/inbox-indexes.ts`, and `dynamo-flag-update.ts` for how a change keeps a
 * row's index keys equal to its flags). So the counts equal the rows at every moment,
 * whatever removed a row (TTL, a crash between writes, a concurrent mark): there is no
 * second write to lose. A row whose `expiresAt` has passed is gone for every reader here,
 * as it will be once DynamoDB's TTL deletes it; so is a deleted one's tombstone.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { InboxIndexName } from '#config/inbox-indexes';
import type { InboxCounts, Notification, Page, Recipient } from '#core/model';
import type { FlagChange, InboxChange, InboxQuery, OwnerInbox } from '#core/ports';
import { type FlagOutcome, FlagWriter, type Transition } from './dynamo-flag-update';
import { countDeltas, type Flags, flagsOf } from './dynamo-inbox-flags';
import { InboxLister } from './dynamo-inbox-list';
import { InboxRetry, type InboxRetryOptions } from './dynamo-inbox-retry';
import { epochSeconds, notificationSortKey, userPartition } from './dynamo-keys';
import { fromItem, NOTIFICATION_ATTRIBUTES } from './dynamo-notification-items';
import {
  type IndexKey,
  isShown,
  SHOWN_CONDITION,
  SHOWN_NAMES,
  SparseIndex,
} from './dynamo-unread-index';

export { MAX_LIST_ROUNDS, SCAN_PAGE } from './dynamo-inbox-list';

/** Flag flips (one conditional UpdateItem each) in flight at once for one mark. */
export const FLIPS_IN_FLIGHT = 25;

export interface OwnerInboxOptions extends InboxRetryOptions {
  /** The clock expiry is judged by (ms); the system clock unless a test fixes it. */
  now?: () => number;
}

/** What each single-notification change makes of the flags. */
export const TRANSITIONS: Record<FlagChange | 'read' | 'unread', Transition> = {
  read: (flags) => ({ ...flags, read: true }),
  unread: (flags) => ({ ...flags, read: false }),
  seen: (flags) => ({ ...flags, seen: true }),
  archive: (flags) => ({ ...flags, archived: true }),
  unarchive: (flags) => ({ ...flags, archived: false }),
  interact: (flags) => ({ ...flags, interacted: true, read: true, seen: true }),
};

export class DynamoOwnerInbox implements OwnerInbox {
  private readonly retry: InboxRetry;
  private readonly indexes: Record<'unread' | 'unseen', SparseIndex>;
  private readonly writer: FlagWriter;
  private readonly lister: InboxLister;
  private readonly now: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: OwnerInboxOptions = {},
  ) {
    this.retry = new InboxRetry(options);
    this.now = options.now ?? Date.now;
    this.indexes = {
      unread: new SparseIndex(documentClient, tableName, 'unread'),
      unseen: new SparseIndex(documentClient, tableName, 'unseen'),
    };
    this.writer = new FlagWriter(documentClient, tableName, this.retry, this.now);
    this.lister = new InboxLister(documentClient, tableName, this.retry, this.now);
  }

  /**
   * One page of the recipient's notifications, newest first: a user's default list hides
   * archived and snoozed ones (it reads the `visible` index), unread-only reads `unread`.
   */
  list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>> {
    if (recipient.kind !== 'user') return this.lister.list(recipient, query, {});
    const index: InboxIndexName = query.unreadOnly === true ? 'unread' : 'visible';
    return this.lister.list(recipient, query, { index });
  }

  async get(tenant: string, userId: string, id: string): Promise<Notification | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: notificationSortKey(id) },
        ConsistentRead: true,
      }),
    );
    return Item === undefined || !isShown(Item, this.now()) ? undefined : fromItem(Item);
  }

  /** The user's unread notifications, counted: 0 before anything was stored for them. */
  unreadCount(tenant: string, userId: string): Promise<number> {
    return this.indexes.unread.count(userPartition(tenant, userId), this.now());
  }

  async counts(tenant: string, userId: string): Promise<InboxCounts> {
    const pk = userPartition(tenant, userId);
    const [unread, unseen] = await Promise.all([
      this.indexes.unread.count(pk, this.now()),
      this.indexes.unseen.count(pk, this.now()),
    ]);
    return { unread, unseen };
  }

  markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    return this.applyEach(
      pk,
      [...new Set(ids)].map((id) => ({ id })),
      TRANSITIONS.read,
    );
  }

  markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    return this.applyEach(userPartition(tenant, userId), [{ id }], TRANSITIONS.unread);
  }

  change(tenant: string, userId: string, id: string, change: FlagChange): Promise<InboxChange> {
    return this.applyEach(userPartition(tenant, userId), [{ id }], TRANSITIONS[change]);
  }

  /**
   * Marks every unread notification read, newest first, a page of the unread index at a
   * time: it reads only unread rows (with their flags, so no row is read before its
   * write), however long the read history. One stored meanwhile may or may not be marked;
   * either way the count stays the unread rows.
   */
  markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    return this.applyToIndex(userPartition(tenant, userId), 'unread', TRANSITIONS.read);
  }

  /** Marks every unseen notification seen, as `markAllRead` does, over the unseen index. */
  markAllSeen(tenant: string, userId: string): Promise<InboxChange> {
    return this.applyToIndex(userPartition(tenant, userId), 'unseen', TRANSITIONS.seen);
  }

  /**
   * Replaces the row by its tombstone (see `dynamo-notification-items.ts`) in one
   * UpdateItem, billed as the delete was: every index loses it in the same write, and
   * a redelivery of it finds the key taken. A second delete finds the tombstone: missing.
   */
  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    const dropped = Object.fromEntries(NOTIFICATION_ATTRIBUTES.map((name, i) => [`#a${i}`, name]));
    try {
      const { Attributes } = await this.retry.onConflict(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: userPartition(tenant, userId), sk: notificationSortKey(id) },
            UpdateExpression: `SET #deleted = :true REMOVE ${Object.keys(dropped).join(', ')}`,
            ConditionExpression: `attribute_exists(pk) AND ${SHOWN_CONDITION}`,
            ExpressionAttributeNames: { ...SHOWN_NAMES, ...dropped },
            ExpressionAttributeValues: { ':true': true, ':now': epochSeconds(this.now()) },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      const before = flagsOf(Attributes ?? {});
      // Gone from every index: as if it were archived, as far as the counts go.
      const deltas = countDeltas(before, { ...before, archived: true });
      return { missing: [], unreadDelta: deltas.unread, unseenDelta: deltas.unseen, changed: 1 };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : undefined;
      // A row there (and shown) would have passed the condition: only a race reaches this.
      if (old !== undefined && isShown(old, this.now())) return this.remove(tenant, userId, id);
      return { missing: [id], unreadDelta: 0, unseenDelta: 0, changed: 0 };
    }
  }

  /** Applies a transition to every row an index holds, a page at a time. */
  private async applyToIndex(
    pk: string,
    index: 'unread' | 'unseen',
    transition: Transition,
  ): Promise<InboxChange> {
    const total = emptyChange();
    let start: IndexKey | undefined;
    do {
      const page = await this.indexes[index].entries(pk, this.now(), { start });
      const change = await this.applyEach(
        pk,
        page.entries.map(({ id, flags }) => ({ id, flags })),
        transition,
      );
      addChange(total, change);
      start = page.next;
    } while (start !== undefined);
    // What disappeared meanwhile is no concern of a "mark all".
    total.missing = [];
    return total;
  }

  /** Applies a transition to each of these rows, FLIPS_IN_FLIGHT at a time. */
  private async applyEach(
    pk: string,
    rows: Array<{ id: string; flags?: Flags }>,
    transition: Transition,
  ): Promise<InboxChange> {
    const total = emptyChange();
    for (let i = 0; i < rows.length; i += FLIPS_IN_FLIGHT) {
      const chunk = rows.slice(i, i + FLIPS_IN_FLIGHT);
      const outcomes = await Promise.all(
        chunk.map(({ id, flags }) => this.writer.apply(pk, id, transition, flags)),
      );
      outcomes.forEach((outcome, j) => {
        addOutcome(total, outcome, chunk[j]?.id ?? '');
      });
    }
    return total;
  }
}

type CountedChange = Required<InboxChange>;

function emptyChange(): CountedChange {
  return { missing: [], unreadDelta: 0, unseenDelta: 0, changed: 0 };
}

function addOutcome(total: CountedChange, outcome: FlagOutcome, id: string): void {
  if (outcome.outcome === 'missing') total.missing.push(id);
  if (outcome.outcome !== 'flipped') return;
  const deltas = countDeltas(outcome.before, outcome.after);
  total.unreadDelta += deltas.unread;
  total.unseenDelta += deltas.unseen;
  total.changed += 1;
}

function addChange(total: CountedChange, change: InboxChange): void {
  total.missing.push(...change.missing);
  total.unreadDelta += change.unreadDelta;
  total.unseenDelta += change.unseenDelta ?? 0;
  total.changed += change.changed ?? 0;
}
