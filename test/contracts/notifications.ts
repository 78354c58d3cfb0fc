/** Notifications as the fan-out makes them: ids from the publish time, tenant and event id. */
import type { Notification } from '#core/model';
import { notificationId } from '#core/notification-id';

export const T0 = Date.UTC(2029, 0, 1);
/** A TTL (epoch s) none of the contract tests outlives. */
export const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);

/** The notification of `eventId` published `second` s after T0 to `tenant`. */
export function published(
  tenant: string,
  second: number,
  eventId: string,
  extra: Partial<Notification> = {},
): Notification {
  const at = T0 + second * 1000;
  return {
    id: notificationId(at, tenant, eventId),
    eventId,
    type: 'comment.created',
    title: 'New comment',
    body: 'Bob replied to your post',
    data: { postId: 42, nested: { list: [1, 'two'] } },
    url: 'https://app.example/posts/42',
    createdAt: new Date(at).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
    ...extra,
  };
}

/** `count` notifications of distinct events, one second apart from `second` on, oldest first. */
export function series(tenant: string, count: number, second = 0): Notification[] {
  return Array.from({ length: count }, (_, i) =>
    published(tenant, second + i, `evt-${second + i}`),
  );
}
