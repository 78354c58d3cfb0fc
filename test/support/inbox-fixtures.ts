/**
 * For the inbox adapters' tests on DynamoDB Local: both sides of the inbox over one table,
 * notifications as the fan-out makes them (real, time-sortable ids), and reads of the
 * table behind them.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { isTombstone } from '#adapters/dynamo-notification-items';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import type { FanOutInbox } from '#core/ports';
import { type DynamoLocal, startDynamoLocal } from './dynamo-local';

export const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);
export const BASE_TIME = Date.UTC(2029, 0, 1);

let sequence = 0;

/** DynamoDB Local with both sides of the inbox over its notifications table. */
export interface InboxTable {
  local: DynamoLocal;
  fanOut: DynamoFanOutInbox;
  owner: DynamoOwnerInbox;
}

/** Starts DynamoDB Local for this test file; `local.stop()` ends it. */
export async function startInboxTable(): Promise<InboxTable> {
  const local = await startDynamoLocal();
  const { doc, tables } = local;
  return {
    local,
    fanOut: new DynamoFanOutInbox(doc, tables.notifications),
    owner: new DynamoOwnerInbox(doc, tables.notifications),
  };
}

export function user(userId: string, tenant = 'acme'): Recipient {
  return { kind: 'user', tenant, userId };
}

/** Real notification ids, one second apart, so they sort by creation as Herald's do. */
export function notification(overrides: Partial<Notification> = {}): Notification {
  sequence += 1;
  return {
    id: notificationId(BASE_TIME + sequence * 1000, 'acme', `evt-${sequence}`),
    eventId: `evt-${sequence}`,
    type: 'comment.created',
    title: 'New comment',
    body: 'Bob replied to your post',
    data: { postId: 42, tags: ['a'], nested: { ok: true } },
    url: 'https://app.example/posts/42',
    createdAt: new Date(BASE_TIME + sequence * 1000).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
    ...overrides,
  };
}

/** The same event published again `laterMs` after `note`: a new id, the same event id. */
export function republished(note: Notification, laterMs = 60_000): Notification {
  const at = Date.parse(note.createdAt) + laterMs;
  return {
    ...note,
    id: notificationId(at, 'acme', note.eventId),
    createdAt: new Date(at).toISOString(),
  };
}

/** Stores `count` new notifications for the recipient, 25 at a time; them, oldest first. */
export async function storeMany(
  inbox: FanOutInbox,
  recipient: Recipient,
  count: number,
): Promise<Notification[]> {
  const notes = Array.from({ length: count }, () => notification());
  for (let i = 0; i < notes.length; i += 25) {
    await Promise.all(
      notes.slice(i, i + 25).map((note) => inbox.store(recipient, note, EXPIRES_AT)),
    );
  }
  return notes;
}

export async function rawItem(local: DynamoLocal, pk: string, sk: string) {
  const { Item } = await local.doc.send(
    new GetCommand({
      TableName: local.tables.notifications,
      Key: { pk, sk },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** Every notification row of a user, with its read flag, straight from the table. */
export async function storedFlags(
  local: DynamoLocal,
  tenant: string,
  userId: string,
): Promise<boolean[]> {
  const flags: boolean[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await local.doc.send(
      new QueryCommand({
        TableName: local.tables.notifications,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
        ExpressionAttributeValues: { ':pk': `U#${tenant}#${userId}`, ':n': 'N#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    // A deleted one's tombstone is no notification.
    const rows = (page.Items ?? []).filter((item) => !isTombstone(item));
    flags.push(...rows.map((item) => item.read === true));
    start = page.LastEvaluatedKey;
  } while (start);
  return flags;
}

export async function unreadStored(
  local: DynamoLocal,
  tenant: string,
  userId: string,
): Promise<number> {
  return (await storedFlags(local, tenant, userId)).filter((read) => !read).length;
}
