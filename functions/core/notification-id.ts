import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const HASH_CHARS = 16;

/**
 * A ULID-shaped id (26 Crockford base32 characters: 48-bit millisecond time, then 80
 * bits) that sorts by publish time. Both halves are derived, not random: the time from
 * the moment SNS accepted the publish and the rest from the tenant and the publisher's
 * event id. Every redelivery of one publish therefore yields the same id, which is what
 * lets the conditional inbox write act as the idempotency check.
 */
export function notificationId(publishedAt: number, tenant: string, eventId: string): string {
  const digest = createHash('sha256').update(tenant).update('\u0000').update(eventId).digest();
  let hash = '';
  for (let i = 0; i < HASH_CHARS; i++) hash += CROCKFORD.charAt((digest[i] ?? 0) % 32);
  return timePart(publishedAt) + hash;
}

/**
 * The lowest id a notification published at `time` (epoch ms) can have: every id of that
 * millisecond or later sorts at or after it, every earlier one before it.
 */
export function lowestIdAt(time: number): string {
  return timePart(time) + CROCKFORD.charAt(0).repeat(HASH_CHARS);
}

function timePart(time: number): string {
  let encoded = '';
  let rest = Math.max(0, Math.floor(time));
  for (let i = 0; i < TIME_CHARS; i++) {
    encoded = CROCKFORD.charAt(rest % 32) + encoded;
    rest = Math.floor(rest / 32);
  }
  return encoded;
}

/** The publish time encoded in a notification id, or undefined if it is not one. */
export function notificationTime(id: string): number | undefined {
  if (!isNotificationId(id)) return undefined;
  let time = 0;
  for (const char of id.slice(0, TIME_CHARS)) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

export function isNotificationId(id: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id);
}
