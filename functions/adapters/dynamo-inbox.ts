/**
 * `FanOutInbox` and `OwnerInbox` over one DynamoDB table:
 * - user notification `U#{tenant}#{userId}` / `N#{id}`, with the user's `read` flag
 * - user state `U#{tenant}#{userId}` / `STATE`: the unread count
 * - topic notification `T#{tenant}#{topic}` / `N#{id}`: a topic's history, no read state
 * Notification ids sort by time, so a partition read backwards is newest first.
 *
 * How the unread count stays exact. Storing is the hot path and costs two plain writes, no
 * transaction: the conditional Put of the notification, then one conditional update of the
 * user's STATE item that records the event id among the user's recent ones and adds 1 to
 * the count. That update is also the idempotency check: a known event (a redelivery, or a
 * publisher's re-publish under a new id) fails it, and an item put for it is taken back.
 * Every read-state change (user actions, rare) flips flags and moves the count in ONE
 * transaction whose conditions name the flag values it read, so a concurrent duplicate
 * changes nothing and a cancelled attempt is re-read and retried. A decrement also requires
 * `unread >= n`: between a store's Put and its count the item is visible but not yet
 * counted, and marking it read then would dip below zero. That guard waits the gap out;
 * only if it never closes (a store that died between its two writes) is the count clamped
 * at zero instead, which is then the exact value again.
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RetryableError } from '#core/errors';
import type { Notification, Page, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import type { FanOutInbox, InboxChange, InboxQuery, OwnerInbox, StoreOutcome } from '#core/ports';
import { batchGetAll } from './dynamo-batch';
import {
  decodeCursor,
  encodeCursor,
  type ItemKey,
  NOTIFICATION_PREFIX,
  notificationSortKey,
  recipientPartition,
  STATE_SK,
  userPartition,
} from './dynamo-keys';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Recent event ids kept per user for recognising a re-publish: trimmed to the newest
 * RECENT_EVENTS_KEPT once there are more than RECENT_EVENTS_HIGH (one extra write per
 * that many notifications). A re-publish is recognised while fewer than that many newer
 * events reached the user; a redelivery of one publish, by its id, always.
 */
export const RECENT_EVENTS_KEPT = 16;
export const RECENT_EVENTS_HIGH = 32;
/** TransactWriteItems takes 100 actions: 99 notifications and the counter. */
export const NOTIFICATIONS_PER_TRANSACTION = 99;
/** Items a read-all or unread-only query evaluates per request (the filter runs after). */
const SCAN_PAGE = 200;
/** Queries one unread-only page may cost before it answers short, with a cursor. */
const MAX_LIST_ROUNDS = 5;
/** Attempts of one change (each re-reads what it found changed) before giving up. */
const MAX_ATTEMPTS = 10;
/**
 * Attempts during which a decrement waits for a store's pending `ADD` (a few hundred ms in
 * all) before it clamps the count at zero.
 */
const GUARD_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 20;
const BACKOFF_CAP_MS = 500;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DynamoInboxOptions {
  /** Waits between retries; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Why a transaction attempt did not commit. */
type Outcome = 'committed' | 'changed' | 'guard';

export class DynamoInbox implements FanOutInbox, OwnerInbox {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoInboxOptions = {},
  ) {
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
  }

  async store(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<StoreOutcome> {
    // The write is the idempotency check for a redelivery: a duplicate costs no extra request.
    // Only the attempt whose Put went through counts the item, so no two count it.
    if (!(await this.putNew(recipient, notification, expiresAt))) return { fresh: false };
    // A topic's history has no count; its event ids are the fan-out's ledger's to track.
    if (recipient.kind === 'topic') return { fresh: true };
    const pk = recipientPartition(recipient);
    const publishedAt = Date.parse(notification.createdAt);
    const claim = await this.claimEvent(pk, notification, publishedAt);
    if (claim.kind === 'claimed') {
      if (claim.recent.length > RECENT_EVENTS_HIGH) await this.trimRecent(pk, claim.recent);
      return { fresh: true };
    }
    // The user has this event already: a re-publish under a new id, or a redelivery of a
    // notification they have deleted since. Take back the item just put, never counted.
    await this.discard(pk, notification.id);
    if (claim.firstPublishedAt === publishedAt) return { fresh: false };
    const first: Notification = {
      ...notification,
      id: notificationId(claim.firstPublishedAt, recipient.tenant, notification.eventId),
      createdAt: new Date(claim.firstPublishedAt).toISOString(),
    };
    return { fresh: false, notification: first };
  }

  /**
   * Records the event among the user's recent ones on their STATE item and counts the
   * notification, in one conditional update: it is the idempotency check for a re-publish,
   * so a known event costs no request of its own, and its failure returns when the event
   * was first published.
   */
  private async claimEvent(
    pk: string,
    notification: Notification,
    publishedAt: number,
  ): Promise<
    { kind: 'claimed'; recent: RecentEvent[] } | { kind: 'known'; firstPublishedAt: number }
  > {
    const tag = eventTag(notification.eventId);
    try {
      // It must land, or the item stays uncounted: a read-state transaction holding the
      // counter makes it fail with TransactionConflict, which the SDK does not retry.
      const { Attributes } = await this.withConflictRetry(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk, sk: STATE_SK },
            UpdateExpression: 'SET #event = :at ADD #unread :count',
            ConditionExpression: 'attribute_not_exists(#event)',
            ExpressionAttributeNames: { '#event': tag, '#unread': 'unread' },
            ExpressionAttributeValues: { ':at': publishedAt, ':count': notification.read ? 0 : 1 },
            // Returned values cost no read units.
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { kind: 'claimed', recent: recentEvents(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client leaves the exception's item marshalled.
      const first = Number(error.Item ? unmarshall(error.Item)[tag] : Number.NaN);
      return { kind: 'known', firstPublishedAt: Number.isFinite(first) ? first : publishedAt };
    }
  }

  /**
   * Removes an item that was put but never counted. Whatever the user did to it meanwhile
   * moved the count: nothing net if it is unread again, one down if they marked it read or
   * deleted it. So an unread item just goes; otherwise the count gets its one back as the
   * item goes, in one transaction.
   */
  private async discard(pk: string, id: string): Promise<void> {
    const key = { pk, sk: notificationSortKey(id) };
    for (let attempt = 1; ; attempt++) {
      if (await this.deleteIf(key, false)) return;
      const outcome = await this.transact([
        {
          Delete: {
            TableName: this.tableName,
            Key: key,
            ConditionExpression: 'attribute_not_exists(pk) OR #read = :true',
            ExpressionAttributeNames: { '#read': 'read' },
            ExpressionAttributeValues: { ':true': true },
          },
        },
        { Update: this.counterUpdate(pk, +1) },
      ]);
      if (outcome === 'committed') return;
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.backoff(attempt);
    }
  }

  /** Puts the notification unless its id is stored; whether it was not. */
  private async putNew(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<boolean> {
    const key = notificationKey(recipient, notification.id);
    try {
      await this.withConflictRetry(() =>
        this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...toItem(recipient, notification), ...key, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Forgets all but the newest recent events, so the STATE item stays one write unit. */
  private async trimRecent(pk: string, recent: RecentEvent[]): Promise<void> {
    const oldest = [...recent]
      .sort((a, b) => b.publishedAt - a.publishedAt)
      .slice(RECENT_EVENTS_KEPT)
      .map((event) => event.tag);
    const names = Object.fromEntries(oldest.map((tag, i) => [`#e${i}`, tag]));
    await this.withConflictRetry(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: STATE_SK },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
        }),
      ),
    );
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
  async unreadCount(tenant: string, userId: string): Promise<number> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: STATE_SK },
        ProjectionExpression: '#unread',
        ExpressionAttributeNames: { '#unread': 'unread' },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.unread === 'number' ? Item.unread : 0;
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
      const outcome = await this.transact([
        flagUpdate(this.tableName, key, true, false),
        { Update: this.counterUpdate(pk, +1) },
      ]);
      if (outcome === 'committed') return { missing: [], unreadDelta: 1 };
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.backoff(attempt);
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
        if (await this.deleteIf(key, true)) return { missing: [], unreadDelta: 0 };
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
        if ((await this.decrement(pk, [deletion])) === 'committed') {
          return { missing: [], unreadDelta: -1 };
        }
      }
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.backoff(attempt);
    }
  }

  /** Deletes the notification if its `read` flag is `read`; whether it did. */
  private async deleteIf(key: ItemKey, read: boolean): Promise<boolean> {
    try {
      await this.withConflictRetry(() =>
        this.documentClient.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ConditionExpression: '#read = :read',
            ExpressionAttributeNames: { '#read': 'read' },
            ExpressionAttributeValues: { ':read': read },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
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
      if ((await this.decrement(pk, updates)) === 'committed') {
        return { marked: pending.length, missing };
      }
      if (attempt >= MAX_ATTEMPTS) throw tooBusy();
      await this.backoff(attempt);
      const flags = await this.readFlags(pk, pending);
      missing.push(...pending.filter((id) => !flags.has(id)));
      pending = pending.filter((id) => flags.get(id) === false);
    }
    return { marked: 0, missing };
  }

  /**
   * Commits `items` (each turning one unread notification read or away) with the counter
   * moved down by as many. While the counter is short of that, a store's `ADD` is still on
   * its way: wait for it. If it never comes, clamp at zero (see the file comment).
   * 'changed' means a notification's flag was not what the caller read: re-read, retry.
   */
  private async decrement(pk: string, items: TransactItem[]): Promise<'committed' | 'changed'> {
    for (let attempt = 1; attempt <= 3 * GUARD_ATTEMPTS; attempt++) {
      // Guard first; then clamp; should the clamp find the counter grown after all, guard again.
      const guarded = attempt % (GUARD_ATTEMPTS + 1) !== 0;
      const counter = guarded
        ? this.counterUpdate(pk, -items.length)
        : this.counterClamp(pk, items.length);
      const outcome = await this.transact([...items, { Update: counter }]);
      if (outcome !== 'guard') return outcome;
      if (guarded) await this.backoff(attempt % (GUARD_ATTEMPTS + 1));
    }
    throw tooBusy();
  }

  /** Runs one transaction; its last action is the counter's, all others notifications'. */
  private async transact(items: TransactItem[]): Promise<Outcome> {
    try {
      await this.documentClient.send(new TransactWriteCommand({ TransactItems: items }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const codes = reasons.map((reason) => reason.Code ?? 'None');
      const failed = (code: string | undefined) => code !== undefined && code !== 'None';
      const counterOnly =
        codes.at(-1) === 'ConditionalCheckFailed' && !codes.slice(0, -1).some(failed);
      if (counterOnly && codes.length === items.length) return 'guard';
      const retryable = new Set(['ConditionalCheckFailed', 'TransactionConflict']);
      const other = codes.find((code) => failed(code) && !retryable.has(code));
      if (other !== undefined) {
        // Throttling and the like: surfaced to the caller, not spun on here.
        throw new RetryableError(`inbox transaction cancelled: ${other}`, { cause: error });
      }
      return 'changed';
    }
  }

  private counterUpdate(pk: string, delta: number): NonNullable<TransactItem['Update']> {
    return {
      TableName: this.tableName,
      Key: { pk, sk: STATE_SK },
      UpdateExpression: 'ADD #unread :delta',
      ...(delta < 0 ? { ConditionExpression: '#unread >= :needed' } : {}),
      ExpressionAttributeNames: { '#unread': 'unread' },
      ExpressionAttributeValues: {
        ':delta': delta,
        ...(delta < 0 ? { ':needed': -delta } : {}),
      },
    };
  }

  /** The counter set to zero, for when it is short of `n` for good. */
  private counterClamp(pk: string, n: number): NonNullable<TransactItem['Update']> {
    return {
      TableName: this.tableName,
      Key: { pk, sk: STATE_SK },
      UpdateExpression: 'SET #unread = :zero',
      ConditionExpression: 'attribute_not_exists(#unread) OR #unread < :needed',
      ExpressionAttributeNames: { '#unread': 'unread' },
      ExpressionAttributeValues: { ':zero': 0, ':needed': n },
    };
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
        backoff: (attempt) => this.backoff(attempt),
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

  /** Retries a plain write that ran into a transaction holding the same item. */
  private async withConflictRetry<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof TransactionConflictException) || attempt >= MAX_ATTEMPTS) {
          throw error;
        }
        await this.backoff(attempt);
      }
    }
  }

  /** Full jitter, exponential, capped. */
  private backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return this.sleep(Math.floor(this.random() * ceiling));
  }
}

function tooBusy(): RetryableError {
  return new RetryableError('the inbox kept changing; try again');
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

function notificationKey(recipient: Recipient, id: string): ItemKey {
  return { pk: recipientPartition(recipient), sk: notificationSortKey(id) };
}

/**
 * The one mapping from a `Notification` to its item. A topic's history has no read
 * state, since it belongs to no single user.
 */
function toItem(recipient: Recipient, notification: Notification): Record<string, unknown> {
  const { id, eventId, type, title, body, data, url, topic, createdAt, read } = notification;
  const item: Record<string, unknown> = {
    id,
    eventId,
    type,
    title,
    body,
    data,
    url,
    topic,
    createdAt,
  };
  if (recipient.kind === 'user') item.read = read;
  return item;
}

/** The one mapping back: only the `Notification`'s own fields, never keys or bookkeeping. */
export function fromItem(item: Record<string, unknown>): Notification {
  const notification: Notification = {
    id: String(item.id),
    eventId: String(item.eventId),
    type: String(item.type),
    createdAt: String(item.createdAt),
    read: item.read === true,
  };
  if (typeof item.title === 'string') notification.title = item.title;
  if (typeof item.body === 'string') notification.body = item.body;
  if (isObject(item.data)) notification.data = item.data;
  if (typeof item.url === 'string') notification.url = item.url;
  if (typeof item.topic === 'string') notification.topic = item.topic;
  return notification;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A user's event recorded on their STATE item: `<tag>: <first publish time>`. */
interface RecentEvent {
  tag: string;
  publishedAt: number;
}

const EVENT_TAG_PREFIX = 'e_';

/**
 * The attribute naming an event id on the user's STATE item: 60 bits of its SHA-256,
 * short so that dozens fit in the item's first write unit with the count.
 */
export function eventTag(eventId: string): string {
  return EVENT_TAG_PREFIX + createHash('sha256').update(eventId).digest('base64url').slice(0, 10);
}

function recentEvents(item: Record<string, unknown>): RecentEvent[] {
  return Object.entries(item).flatMap(([name, value]) =>
    name.startsWith(EVENT_TAG_PREFIX) && typeof value === 'number'
      ? [{ tag: name, publishedAt: value }]
      : [],
  );
}
