/**
 * `OwnerInbox` over the notifications table: a user's own view of what the fan-out filed
 * (`U#{tenant}#{userId}` / `N#{id}`, or a topic's history), newest first, with read state
 * and deletion. Ids sort by time, so a partition read backwards is newest first.
 *
 * The unread count is not kept anywhere: it is a consistent Query of the table's sparse
 * unread index, which DynamoDB updates in the same write as the row (see
 * `functions/config/unread-index.ts`). So it equals the unread rows at every moment,
 * whatever removed a row (TTL, a crash between writes, a concurrent mark): there is no
 * second write to lose. A row whose `expiresAt` has passed is gone for every reader here,
 * as it will be once DynamoDB's TTL deletes it; so is a deleted one's tombstone.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE_KEYS } from '#config/topology';
import { UNREAD_INDEX } from '#config/unread-index';
import type { Notification, Page, Recipient } from '#core/model';
import type { InboxChange, InboxQuery, OwnerInbox } from '#core/ports';
import { InboxRetry, type InboxRetryOptions } from './dynamo-inbox-retry';
import {
  decodeCursor,
  encodeCursor,
  epochSeconds,
  type ItemKey,
  NOTIFICATION_PREFIX,
  notificationSortKey,
  recipientPartition,
  userPartition,
} from './dynamo-keys';
import { fromItem, NOTIFICATION_ATTRIBUTES } from './dynamo-notification-items';
import {
  isShown,
  LIVE_CONDITION,
  SHOWN_CONDITION,
  SHOWN_NAMES,
  UnreadIndex,
  type UnreadIndexKey,
} from './dynamo-unread-index';

/** Flag flips (one conditional UpdateItem each) in flight at once for one mark. */
export const FLIPS_IN_FLIGHT = 25;
/** Items an unread-only query evaluates per request (the filter runs after). */
export const SCAN_PAGE = 200;
/** Queries one page may cost before it answers short, with a cursor. */
export const MAX_LIST_ROUNDS = 5;

export interface OwnerInboxOptions extends InboxRetryOptions {
  /** The clock expiry is judged by (ms); the system clock unless a test fixes it. */
  now?: () => number;
}

/** What one conditional flip or delete found. */
type Flip = 'flipped' | 'unchanged' | 'missing';

export class DynamoOwnerInbox implements OwnerInbox {
  private readonly retry: InboxRetry;
  private readonly unread: UnreadIndex;
  private readonly now: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: OwnerInboxOptions = {},
  ) {
    this.retry = new InboxRetry(options);
    this.unread = new UnreadIndex(documentClient, tableName);
    this.now = options.now ?? Date.now;
  }

  /**
   * One page of the recipient's notifications, newest first. The cursor is the key of the
   * last item returned, so inserts (newer ids, ahead of it) never shift a later page: a
   * listing neither skips nor repeats. Unread-only pages (and pages past expired rows)
   * filter after DynamoDB's limit, so they read on until full, or answer short (with a
   * cursor) after a few requests.
   */
  async list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>> {
    const pk = recipientPartition(recipient);
    const unreadOnly = query.unreadOnly === true && recipient.kind === 'user';
    let start = decodeCursor(query.cursor, { pk, skPrefix: NOTIFICATION_PREFIX });
    const items: Record<string, unknown>[] = [];
    let truncated = false;
    for (let round = 0; round < MAX_LIST_ROUNDS; round++) {
      const page: QueryCommandOutput = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          // Tombstones are read and dropped here: a few bytes each, so they cost little.
          FilterExpression: unreadOnly ? `#read = :false AND ${SHOWN_CONDITION}` : SHOWN_CONDITION,
          ExpressionAttributeNames: {
            ...SHOWN_NAMES,
            ...(unreadOnly ? { '#read': 'read' } : {}),
          },
          ExpressionAttributeValues: {
            ':pk': pk,
            ':prefix': NOTIFICATION_PREFIX,
            ':now': epochSeconds(this.now()),
            ...(unreadOnly ? { ':false': false } : {}),
          },
          ScanIndexForward: false,
          Limit: unreadOnly ? Math.max(SCAN_PAGE, query.limit) : query.limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      const found = page.Items ?? [];
      const room = query.limit - items.length;
      items.push(...found.slice(0, room));
      truncated = found.length > room;
      start = page.LastEvaluatedKey as ItemKey | undefined;
      if (items.length >= query.limit || start === undefined) break;
    }
    const last = items.at(-1);
    const more = truncated || start !== undefined;
    const resumeFrom: ItemKey | undefined =
      items.length >= query.limit && last !== undefined ? { pk, sk: String(last.sk) } : start;
    const cursor = more && resumeFrom ? encodeCursor({ ...resumeFrom }) : undefined;
    const notifications = items.map(fromItem);
    return cursor === undefined ? { items: notifications } : { items: notifications, cursor };
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
    return this.unread.count(userPartition(tenant, userId), this.now());
  }

  async markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    return this.markEachRead(userPartition(tenant, userId), [...new Set(ids)]);
  }

  async markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    const sk = notificationSortKey(id);
    const outcome = await this.conditionally(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userPartition(tenant, userId), sk },
          UpdateExpression: 'SET #read = :false, #unreadKey = :sk',
          // attribute_exists: an update must never create a notification that was deleted.
          ConditionExpression: `attribute_exists(pk) AND #read = :true AND ${LIVE_CONDITION}`,
          ExpressionAttributeNames: this.flagNames(),
          ExpressionAttributeValues: {
            ':true': true,
            ':false': false,
            ':sk': sk,
            ':now': epochSeconds(this.now()),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    return outcome === 'missing'
      ? { missing: [id], unreadDelta: 0 }
      : { missing: [], unreadDelta: outcome === 'flipped' ? 1 : 0 };
  }

  /**
   * Marks every unread notification read, newest first, a page of the unread index at a
   * time: it reads only unread rows, however long the read history. One stored meanwhile
   * may or may not be marked; either way the count stays the unread rows.
   */
  async markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    let unreadDelta = 0;
    let start: UnreadIndexKey | undefined;
    do {
      const { ids, next } = await this.unread.ids(pk, this.now(), start);
      unreadDelta += (await this.markEachRead(pk, ids)).unreadDelta;
      start = next;
    } while (start !== undefined);
    return { missing: [], unreadDelta };
  }

  /**
   * Replaces the row by its tombstone (see `dynamo-notification-items.ts`) in one
   * UpdateItem, billed as the delete was: the unread index loses it in the same write, and
   * a redelivery of it finds the key taken. A second delete finds the tombstone: missing.
   */
  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    let wasUnread = false;
    const dropped = Object.fromEntries(NOTIFICATION_ATTRIBUTES.map((name, i) => [`#a${i}`, name]));
    const outcome = await this.conditionally(async () => {
      const { Attributes } = await this.documentClient.send(
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
      );
      wasUnread = Attributes?.read === false;
    });
    return outcome === 'missing'
      ? { missing: [id], unreadDelta: 0 }
      : { missing: [], unreadDelta: wasUnread ? -1 : 0 };
  }

  /** Flips each of these read if it is unread, FLIPS_IN_FLIGHT at a time. */
  private async markEachRead(pk: string, ids: string[]): Promise<InboxChange> {
    const missing: string[] = [];
    let marked = 0;
    for (let i = 0; i < ids.length; i += FLIPS_IN_FLIGHT) {
      const chunk = ids.slice(i, i + FLIPS_IN_FLIGHT);
      const outcomes = await Promise.all(chunk.map((id) => this.flipRead(pk, id)));
      outcomes.forEach((outcome, j) => {
        if (outcome === 'flipped') marked++;
        else if (outcome === 'missing') missing.push(chunk[j] ?? '');
      });
    }
    return { missing, unreadDelta: marked > 0 ? -marked : 0 };
  }

  /** One notification read, and so out of the unread index, if it is unread now. */
  private flipRead(pk: string, id: string): Promise<Flip> {
    return this.conditionally(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: notificationSortKey(id) },
          UpdateExpression: 'SET #read = :true REMOVE #unreadKey',
          ConditionExpression: `#read = :false AND ${LIVE_CONDITION}`,
          ExpressionAttributeNames: this.flagNames(),
          ExpressionAttributeValues: {
            ':true': true,
            ':false': false,
            ':now': epochSeconds(this.now()),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  /**
   * Runs one conditional write: 'flipped' when it went through; when its condition failed,
   * 'missing' if the row is not there (or expired), else 'unchanged' (its flag already was
   * what the write wanted). Each write names the flag it expects, so of concurrent
   * duplicates exactly one goes through.
   */
  private async conditionally(write: () => Promise<unknown>): Promise<Flip> {
    try {
      await this.retry.onConflict(write);
      return 'flipped';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client leaves the exception's item marshalled.
      const old = error.Item ? unmarshall(error.Item) : undefined;
      return old === undefined || !isShown(old, this.now()) ? 'missing' : 'unchanged';
    }
  }

  private flagNames(): Record<string, string> {
    return {
      '#read': 'read',
      '#unreadKey': UNREAD_INDEX.sortKey,
      '#expiresAt': TABLE_KEYS.ttlAttribute,
    };
  }
}
