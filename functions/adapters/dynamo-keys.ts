/**
 * Key builders and the pagination cursor shared by Herald's DynamoDB adapters.
 *
 * Tenants and topics never contain `#` and the free-form user id always comes last,
 * so `#`-joined keys of different kinds, tenants or users cannot collide.
 */
import { SNOOZE_LISTING_PREFIX } from '#config/snooze-listing';
import { BadRequestError } from '#core/errors';
import type { Recipient } from '#core/model';

/** The primary key of every Herald item (see `TABLE_KEYS` in `functions/config/topology.ts`). */
export interface ItemKey {
  pk: string;
  sk: string;
}

export const CONNECTION_PREFIX = 'C#';
export const NOTIFICATION_PREFIX = 'N#';
/** Sort key of a connection's own entry. */
export const CONNECTION_ENTRY_SK = 'C';

/** Partition of everything one user owns: connection entries, notifications. */
export function userPartition(tenant: string, userId: string): string {
  return `U#${segment(tenant, 'tenant')}#${userId}`;
}

/** Partition of a topic: its subscribed connections, or its notification history. */
export function topicPartition(tenant: string, topic: string): string {
  return `T#${segment(tenant, 'tenant')}#${segment(topic, 'topic')}`;
}

export function recipientPartition(recipient: Recipient): string {
  return recipient.kind === 'user'
    ? userPartition(recipient.tenant, recipient.userId)
    : topicPartition(recipient.tenant, recipient.topic);
}

export function connectionEntryKey(connectionId: string): ItemKey {
  return { pk: `${CONNECTION_PREFIX}${connectionId}`, sk: CONNECTION_ENTRY_SK };
}

/** An event a publisher sent: the ledger of first publish times, for idempotency. */
export function eventKey(tenant: string, eventId: string): ItemKey {
  return { pk: `E#${segment(tenant, 'tenant')}#${eventId}`, sk: 'E' };
}

export function connectionSortKey(connectionId: string): string {
  return `${CONNECTION_PREFIX}${connectionId}`;
}

export function notificationSortKey(id: string): string {
  return `${NOTIFICATION_PREFIX}${id}`;
}

/** A user's state hash (app keys), beside their notifications. */
export function userStateKey(tenant: string, userId: string): ItemKey {
  return { pk: userPartition(tenant, userId), sk: 'STATE' };
}

/** That a state change with this idempotency id applied to the user (until it expires). */
export function stateMarkerKey(tenant: string, userId: string, id: string): ItemKey {
  return { pk: userPartition(tenant, userId), sk: `SA#${id}` };
}

/** Epoch seconds, the unit of the TTL attribute, for a millisecond clock reading. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

// Validation happens at the edge; this guard keeps a `#` that slipped past it from
// ever producing a key that reads as another tenant's.
function segment(value: string, what: string): string {
  if (value.length === 0 || value.includes('#')) {
    throw new BadRequestError(`${what} is not valid`);
  }
  return value;
}

const MAX_CURSOR_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** An opaque cursor for a query's `LastEvaluatedKey`, or undefined on the last page. */
export function encodeCursor(
  lastEvaluatedKey: Record<string, unknown> | undefined,
): string | undefined {
  if (lastEvaluatedKey === undefined) return undefined;
  return Buffer.from(JSON.stringify(lastEvaluatedKey)).toString('base64url');
}

/**
 * The `ExclusiveStartKey` a cursor stands for. A cursor comes back from a client, so it
 * must decode to a key inside the partition and sort-key range being queried: anything
 * else is a `BadRequestError`, never a DynamoDB validation error or another user's page.
 */
export function decodeCursor(
  cursor: string | undefined,
  expected: { pk: string; skPrefix: string },
): ItemKey | undefined {
  if (cursor === undefined) return undefined;
  const invalid = () => new BadRequestError('cursor is not valid');
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new BadRequestError('cursor is not valid', 'bad_request', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const { pk, sk, ...rest } = parsed as Record<string, unknown>;
  if (
    Object.keys(rest).length > 0 ||
    pk !== expected.pk ||
    typeof sk !== 'string' ||
    !sk.startsWith(expected.skPrefix)
  ) {
    throw invalid();
  }
  return { pk: expected.pk, sk };
}

/** Sort key of a preferences item (a user's, or a tenant's defaults). */
export const PREFERENCES_SK = 'PREFS';

/** A user's notification preferences, beside their notifications and state. */
export function userPreferencesKey(tenant: string, userId: string): ItemKey {
  return { pk: userPartition(tenant, userId), sk: PREFERENCES_SK };
}

/** A tenant's default preferences, in the tenant's own partition. */
export function tenantPreferencesKey(tenant: string): ItemKey {
  return { pk: `TENANT#${segment(tenant, 'tenant')}`, sk: PREFERENCES_SK };
}

/** The minute (epoch minutes) a token expiry (epoch s) falls in: a sweep partition. */
export function expiryMinute(tokenExpiresAt: number): number {
  return Math.floor(tokenExpiresAt / 60);
}

/** Partition of the connections whose token expires within one minute (the sweep's list). */
export function sweepPartition(minute: number): string {
  return `X#${minute}`;
}

/** Partition of the snoozes due within one minute (epoch minutes): the wake-up's list. */
export function snoozePartition(minute: number): string {
  return `${SNOOZE_LISTING_PREFIX}${minute}`;
}

/** One snooze's entry under its minute: tenant and id hold no `#`; the user id comes last. */
export function snoozeEntryKey(
  minute: number,
  entry: { tenant: string; userId: string; id: string },
): ItemKey {
  return {
    pk: snoozePartition(minute),
    sk: `${segment(entry.tenant, 'tenant')}#${segment(entry.id, 'id')}#${entry.userId}`,
  };
}

/** The snooze wake-up's watermark: the last minute it read in full. */
export const SNOOZE_WATERMARK_KEY: ItemKey = { pk: `${SNOOZE_LISTING_PREFIX}watermark`, sk: 'Z' };
