/**
 * A notification as an item of the notifications table: `U#{tenant}#{userId}` (with the
 * user's `read` flag) or `T#{tenant}#{topic}` (a topic's history, no read state) /
 * `N#{id}`. The one mapping each way, shared by the inbox's two sides and the replay.
 *
 * A notification the user deleted leaves a tombstone at its key: the keys, `expiresAt`
 * and the `deleted` marker, nothing else (no `unreadKey`, so it is out of the unread index
 * in the same write). The fan-out's conditional Put fails on it as on the row, so a
 * redelivery or re-publish of a deleted notification is recognised at no request of its
 * own, for as long as the row would have been kept; every reader skips it.
 */
import { UNREAD_INDEX } from '#config/unread-index';
import type { Notification, Recipient } from '#core/model';
import { type ItemKey, notificationSortKey, recipientPartition } from './dynamo-keys';

export function notificationKey(recipient: Recipient, id: string): ItemKey {
  return { pk: recipientPartition(recipient), sk: notificationSortKey(id) };
}

/**
 * The one mapping from a `Notification` to its item. A topic's history has no read
 * state, since it belongs to no single user.
 */
export function toItem(recipient: Recipient, notification: Notification): Record<string, unknown> {
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
  // An unread row is in the unread index from the very write that files it: nothing to count later.
  if (recipient.kind === 'user' && !read) item[UNREAD_INDEX.sortKey] = notificationSortKey(id);
  return item;
}

/**
 * When the fan-out filed the row (epoch ms), beside the publish time its id carries: what
 * `resume` tells a late-filed notification by. Bookkeeping, never part of the notification.
 */
export const STORED_AT = 'storedAt';

/** The marker attribute of a tombstone. */
export const TOMBSTONE_MARKER = 'deleted';

/**
 * What a tombstone drops of its row: every attribute `toItem` and the fan-out write. Keys and
 * `expiresAt` stay, so the TTL removes the tombstone when it would have removed the row.
 */
export const NOTIFICATION_ATTRIBUTES = [
  'id',
  'eventId',
  'type',
  'title',
  'body',
  'data',
  'url',
  'topic',
  'createdAt',
  'read',
  UNREAD_INDEX.sortKey,
  STORED_AT,
] as const;

/** Whether an item read back is a deleted notification's tombstone. */
export function isTombstone(item: Record<string, unknown>): boolean {
  return item[TOMBSTONE_MARKER] !== undefined;
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
