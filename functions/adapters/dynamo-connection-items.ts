/**
 * How a connection's items read and write, beside `dynamo-keys.ts`: the connection entry as
 * a `Connection`, and the sweep entry `X#{minute}` / `C#{connectionId}` that lists a
 * connection under the minute its token expires in, so the sweep finds it with one Query.
 */
import type { Connection } from '#core/model';
import { connectionSortKey, expiryMinute, type ItemKey, sweepPartition } from './dynamo-keys';

/** How long a sweep entry outlives its minute, so a sweep that was late still finds it. */
const SWEEP_ENTRY_GRACE_SECONDS = 3600;

export function sweepEntryKey(tokenExpiresAt: number, connectionId: string): ItemKey {
  return { pk: sweepPartition(expiryMinute(tokenExpiresAt)), sk: connectionSortKey(connectionId) };
}

/** The sweep entry of a connection whose token expires at `tokenExpiresAt` (epoch s). */
export function sweepEntry(
  connection: Pick<Connection, 'connectionId' | 'tenant' | 'userId'>,
  tokenExpiresAt: number,
  connectionExpiresAt: number,
) {
  const { connectionId, tenant, userId } = connection;
  return {
    ...sweepEntryKey(tokenExpiresAt, connectionId),
    connectionId,
    tenant,
    userId,
    tokenExpiresAt,
    // TTL: never before the connection's own items, and after the sweep has had its chance.
    expiresAt: Math.max(connectionExpiresAt, tokenExpiresAt + SWEEP_ENTRY_GRACE_SECONDS),
  };
}

/** A connection entry as the core sees it. */
export function toConnection(connectionId: string, item: Record<string, unknown>): Connection {
  const connection: Connection = {
    connectionId,
    tenant: String(item.tenant),
    userId: String(item.userId),
    topicPatterns: Array.isArray(item.topicPatterns) ? item.topicPatterns.map(String) : [],
    connectedAt: Number(item.connectedAt),
    // The document client reads a string set as a `Set`.
    topics: item.topics instanceof Set ? [...item.topics].map(String).sort() : [],
  };
  if (typeof item.email === 'string') connection.email = item.email;
  if (typeof item.tokenExpiresAt === 'number') connection.tokenExpiresAt = item.tokenExpiresAt;
  return connection;
}
