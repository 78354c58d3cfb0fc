/**
 * `OwnerInbox` over the notifications table: a user's own view of what the fan-out filed
 * (`U#{tenant}#{userId}` / `N#{id}`, or a topic's history), newest first, with read state
 * and deletion. Ids sort by time, so a partition read backwards is newest first. Every
 * change of a `read` flag moves the STATE item's count in the same transaction (see
 * `dynamo-unread-counter.ts`).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { Notification, Page, Recipient } from '#core/model';
import type { InboxChange, InboxQuery, OwnerInbox } from '#core/ports';
import { batchGetAll } from './dynamo-batch';
import { InboxRetry, type InboxRetryOptions, MAX_ATTEMPTS, tooBusy } from './dynamo-inbox-retry';
import {
  decodeCursor,
  encodeCursor,
  type ItemKey,
  NOTIFICATION_PREFIX,
  notificationSortKey,
  recipientPartition,
  userPartition,
} from './dynamo-keys';
import { fromItem } from './dynamo-notification-items';
import { type TransactItem, UnreadCounter } from './dynamo-unread-counter';

/** TransactWriteItems takes 100 actions: 99 notifications and the counter. */
export const NOTIFICATIONS_PER_TRANSACTION = 99;
/** Items a read-all or unread-only query evaluates per request (the filter runs after). */
export const SCAN_PAGE = 200;
/** Queries one unread-only page may cost before it answers short, with a cursor. */
export const MAX_LIST_ROUNDS = 5;

export class DynamoOwnerInbox implements OwnerInbox {
  private readonly retry: InboxRetry;
  private readonly counter: UnreadCounter;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: InboxRetryOptions = {},
  ) {
    this.retry = new InboxRetry(options);
    this.counter = new UnreadCounter(documentClient, tableName, this.retry);
  }

  /**
   * One page of the recipient's notifications, newest first. The cursor is the key of the
   * last item returned, so inserts (newer ids, ahead of it) never shift a later page: a
   * listing neither skips nor repeats. Unread-only pages filter after DynamoDB's limit, so
   * they read on until full, or answer short (with a cursor) after a few requests.
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
          ExpressionAttributeValues: {
            ':pk': pk,
            ':prefix': NOTIFICATION_PREFIX,
            ...(unreadOnly ? { ':false': false } : {}),
          },
          ...(unreadOnly
            ? { FilterExpression: '#read = :false', ExpressionAttributeNames: { '#read': 'read' } }
            : {}),
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
    return Item === undefined ? undefined : fromItem(Item);
  }

  /** The user's unread count; 0 before anything was stored for them. */
  unreadCount(tenant: string, userId: string): Promise<number> {
    return this.counter.read(userPartition(tenant, userId));
  }

  async markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    const wanted = [...new Set(ids)];
    const flags = await this.readFlags(pk, wanted);
    const missing = wanted.filter((id) => !flags.has(id));
    const unread = wanted.filter((id) => flags.get(id) === false);
    let marked = 0;
    for (let i = 0; i < unread.length; i += NOTIFICATIONS_PER_TRANSACTION) {
      const chunk = unread.slice(i, i + NOTIFICATIONS_PER_TRANSACTION);
      const outcome = await this.markChunkRead(pk, chunk);
      marked += outcome.marked;
      missing.push(...outcome.missing);
    }
    return { missing, unreadDelta: marked > 0 ? -marked : 0 };
  }

  async markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    const key = { pk, sk: notificationSortKey(id) };
    for (let attempt = 1; ; attempt++) {
      const read = (await this.readFlags(pk, [id])).get(id);
      if (read === undefined) return { missing: [id], unreadDelta: 0 };
      if (!read) return { missing: [], unreadDelta: 0 };
      const flip = flagUpdate(this.tableName, key, true, false);
      if ((await this.counter.commit(pk, [flip], +1)) === 'committed') {
        return { missing: [], unreadDelta: 1 };
      }
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.retry.wait(attempt);
    }
  }

  /**
   * Marks every unread notification read, newest first, 99 per transaction. It stops once
   * the count reaches zero: older pages then hold nothing unread, so a user with months of
   * read history is not read through on every click.
   */
  async markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    let expected = await this.unreadCount(tenant, userId);
    let marked = 0;
    let start: ItemKey | undefined;
    while (expected > 0) {
      const { ids, next } = await this.unreadIds(pk, start);
      for (let i = 0; i < ids.length; i += NOTIFICATIONS_PER_TRANSACTION) {
        const outcome = await this.markChunkRead(
          pk,
          ids.slice(i, i + NOTIFICATIONS_PER_TRANSACTION),
        );
        marked += outcome.marked;
        expected -= outcome.marked;
      }
      if (next === undefined) break;
      start = next;
      if (expected <= 0) expected = await this.unreadCount(tenant, userId);
    }
    return { missing: [], unreadDelta: marked > 0 ? -marked : 0 };
  }

  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    const pk = userPartition(tenant, userId);
    const key = { pk, sk: notificationSortKey(id) };
    for (let attempt = 1; ; attempt++) {
      const read = (await this.readFlags(pk, [id])).get(id);
      if (read === undefined) return { missing: [id], unreadDelta: 0 };
      if (read) {
        // No count to move: one conditional delete, which fails if it became unread meanwhile.
        if (await this.counter.deleteUncounted(key, true)) return { missing: [], unreadDelta: 0 };
      } else {
        const deletion: TransactItem = {
          Delete: {
            TableName: this.tableName,
            Key: key,
            ConditionExpression: '#read = :false',
            ExpressionAttributeNames: { '#read': 'read' },
            ExpressionAttributeValues: { ':false': false },
          },
        };
        if ((await this.counter.commit(pk, [deletion], -1)) === 'committed') {
          return { missing: [], unreadDelta: -1 };
        }
      }
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.retry.wait(attempt);
    }
  }

  /** Marks these (last seen unread) read; re-reads and retries whatever changed meanwhile. */
  private async markChunkRead(
    pk: string,
    ids: string[],
  ): Promise<{ marked: number; missing: string[] }> {
    let pending = ids;
    const missing: string[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const updates = pending.map((id) =>
        flagUpdate(this.tableName, { pk, sk: notificationSortKey(id) }, false, true),
      );
      if ((await this.counter.commit(pk, updates, -updates.length)) === 'committed') {
        return { marked: pending.length, missing };
      }
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.retry.wait(attempt);
      const flags = await this.readFlags(pk, pending);
      missing.push(...pending.filter((id) => !flags.has(id)));
      pending = pending.filter((id) => flags.get(id) === false);
    }
    return { marked: 0, missing };
  }

  /** The `read` flag of each id that is in the partition; absent ids are not in the map. */
  private async readFlags(pk: string, ids: string[]): Promise<Map<string, boolean>> {
    const items = await batchGetAll(
      this.documentClient,
      this.tableName,
      ids.map((id) => ({ pk, sk: notificationSortKey(id) })),
      {
        projection: 'sk, #read',
        names: { '#read': 'read' },
        consistentRead: true,
        attempts: MAX_ATTEMPTS,
        backoff: this.retry,
        what: 'inbox reads',
      },
    );
    return new Map(
      items.map((item) => [String(item.sk).slice(NOTIFICATION_PREFIX.length), item.read === true]),
    );
  }

  /** Ids of unread notifications from `start` on, newest first, one query's worth. */
  private async unreadIds(
    pk: string,
    start: ItemKey | undefined,
  ): Promise<{ ids: string[]; next?: ItemKey }> {
    const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: '#read = :false',
        ProjectionExpression: 'sk',
        ExpressionAttributeNames: { '#read': 'read' },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': NOTIFICATION_PREFIX, ':false': false },
        ScanIndexForward: false,
        Limit: SCAN_PAGE,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    const ids = Items.map((item) => String(item.sk).slice(NOTIFICATION_PREFIX.length));
    return LastEvaluatedKey === undefined ? { ids } : { ids, next: LastEvaluatedKey as ItemKey };
  }
}

/** Turns one notification's flag from `from` to `to`, only if it still is `from`. */
function flagUpdate(table: string, key: ItemKey, from: boolean, to: boolean): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #read = :to',
      // attribute_exists: an update must never create a notification that was deleted.
      ConditionExpression: 'attribute_exists(pk) AND #read = :from',
      ExpressionAttributeNames: { '#read': 'read' },
      ExpressionAttributeValues: { ':from': from, ':to': to },
    },
  };
}
