import { mapLimited } from './limiter';
import type { Connection, ConnectionRef, Identity } from './model';
import type { ConnectionStore, Disconnector } from './ports';

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

/** Connection reads in flight while finding a user's oldest connections. */
const AGE_LOOKUP_CONCURRENCY = 8;

/**
 * The cap on a user's connections, after `$connect` recorded `keep`: when the user then
 * holds more than `max`, their oldest others are closed at API Gateway and their records
 * removed (the new one always stays). Costs one Query per connect; only a user over the
 * cap has their connections read, to learn which are oldest. Returns the ids closed.
 */
export async function closeOldestBeyond(
  deps: { connections: ConnectionStore; disconnector: Disconnector },
  identity: Pick<Identity, 'tenant' | 'userId'>,
  keep: string,
  max: number,
): Promise<string[]> {
  const listed = await listAllForUser(deps.connections, identity.tenant, identity.userId);
  if (listed.length <= max) return [];
  const others = listed.filter((ref) => ref.connectionId !== keep);
  const found = await mapLimited(others, AGE_LOOKUP_CONCURRENCY, (ref) =>
    deps.connections.get(ref.connectionId),
  );
  const live = found.filter((connection) => connection !== undefined);
  const excess = live.length + 1 - max;
  if (excess <= 0) return [];
  const oldest = live
    .sort((a, b) => a.connectedAt - b.connectedAt || a.connectionId.localeCompare(b.connectionId))
    .slice(0, excess)
    .map((connection) => connection.connectionId);
  for (const connectionId of oldest) {
    await deps.disconnector.disconnect(connectionId);
    await deps.connections.remove(connectionId);
  }
  return oldest;
}
