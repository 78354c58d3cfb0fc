import type { Connection, ConnectionRef, Identity } from './model';
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

type UserListing = Pick<ConnectionStore, 'listForUser'>;

/**
 * A user's connections page by page. A page may be empty and still go on (expired items
 * are filtered after the page limit), so only the end of the cursor says "no more".
 */
async function* userConnectionPages(
  store: UserListing,
  tenant: string,
  userId: string,
): AsyncGenerator<ConnectionRef[]> {
  let cursor: string | undefined;
  do {
    const page = await store.listForUser(tenant, userId, cursor);
    yield page.items;
    cursor = page.cursor;
  } while (cursor);
}

/** Every live connection of a user, across all pages. */
export async function listAllForUser(
  store: UserListing,
  tenant: string,
  userId: string,
): Promise<ConnectionRef[]> {
  const all: ConnectionRef[] = [];
  for await (const items of userConnectionPages(store, tenant, userId)) all.push(...items);
  return all;
}

/** Whether a user holds a live connection other than `except`; reads no more pages than it must. */
export async function isUserOnline(
  store: UserListing,
  tenant: string,
  userId: string,
  options: { except?: string } = {},
): Promise<boolean> {
  for await (const items of userConnectionPages(store, tenant, userId)) {
    if (items.some((connection) => connection.connectionId !== options.except)) return true;
  }
  return false;
}
