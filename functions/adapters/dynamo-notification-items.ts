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
import { INBOX_INDEX_LIST } from '#config/inbox-indexes';
import type { Notification, NotificationAction, Recipient } from '#core/model';
import { flagsOf, indexKeysOf } from './dynamo-inbox-flags';
import { type ItemKey, notificationSortKey, recipientPartition } from './dynamo-keys';

export function notificationKey(recipient: Recipient, id: string): ItemKey {
  return { pk: recipientPartition(recipient), sk: notificationSortKey(id) };
}

/**
 * The one mapping from a `Notification` to its item. A topic's history has no read
 * state (nor seen, archived, ...), since it belongs to no single user.
 */
export function toItem(recipient: Recipient, notification: Notification): Record<string, unknown> {
  const { id, eventId, type, title, body, data, url, topic, createdAt, tags, actions } =
    notification;
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
    tags,
    actions,
  };
  if (recipient.kind !== 'user') return item;
  const flags = flagsOf(notification as unknown as Record<string, unknown>);
  Object.assign(item, {
    read: flags.read,
    seen: flags.seen,
    archived: flags.archived,
    interacted: flags.interacted,
    snoozedUntil: flags.snoozedUntil,
  });
  // A row is in its indexes from the very write that files it: nothing to count later.
  return Object.assign(item, indexKeysOf(flags, notificationSortKey(id)));
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
  'tags',
  'actions',
  'read',
  'seen',
  'archived',
  'interacted',
  'snoozedUntil',
  ...INBOX_INDEX_LIST.map((index) => index.sortKey),
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
    ...flagsOf(item),
  };
  if (typeof item.title === 'string') notification.title = item.title;
  if (typeof item.body === 'string') notification.body = item.body;
  if (isObject(item.data)) notification.data = item.data;
  if (typeof item.url === 'string') notification.url = item.url;
  if (typeof item.topic === 'string') notification.topic = item.topic;
  if (Array.isArray(item.tags) && item.tags.length > 0) notification.tags = item.tags.map(String);
  if (Array.isArray(item.actions) && item.actions.length > 0) {
    notification.actions = item.actions
      .filter(isObject)
      .map(
        (action): NotificationAction => ({ label: String(action.label), url: String(action.url) }),
      );
  }
  return notification;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
