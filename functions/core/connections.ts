import type { Connection, Identity } from './model';
import type { ConnectionStore } from './ports';

/**
 * API Gateway closes every WebSocket after two hours at most and calls `$disconnect`
 * only on a best-effort basis, so connection items expire a little after that.
 */
export const MAX_CONNECTION_SECONDS = 2 * 3600;
export const CONNECTION_TTL_MARGIN_SECONDS = 10 * 60;

export function connectionExpiresAt(connectedAt: number): number {
  return Math.floor(connectedAt / 1000) + MAX_CONNECTION_SECONDS + CONNECTION_TTL_MARGIN_SECONDS;
}

export function toConnection(
  identity: Identity,
  connectionId: string,
  connectedAt: number,
): Connection {
  return { ...identity, connectionId, connectedAt, topics: [] };
}

/** `$connect`: the authorizer already verified the token; record who holds this socket. */
export async function openConnection(
  store: ConnectionStore,
  identity: Identity,
  connectionId: string,
  connectedAt: number,
): Promise<Connection> {
  const connection = toConnection(identity, connectionId, connectedAt);
  await store.put(connection, connectionExpiresAt(connectedAt));
  return connection;
}
