import { NotFoundError, tooManySubscriptions } from '#core/errors';
import type { Connection, ConnectionRef, Page } from '#core/model';
import type {
  ConnectionLifetimes,
  ConnectionStore,
  ExpiringConnection,
  TopicPages,
  TopicRange,
} from '#core/ports';

/** A user's or a topic's entry for one connection, as `DynamoConnectionStore` writes them. */
interface Entry {
  connectionId: string;
  userId: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
  /** The token expiry copied from the connection (epoch s): a hint, as in the adapter. */
  tokenExpiresAt?: number;
}

export interface FakeConnectionStoreOptions {
  /**
   * The clock (ms) expiries are read against, as the adapter reads them. By default it
   * stands before every expiry, so tests that do not care put connections with 0.
   */
  now?: () => number;
  /** Connections per page of `listForUser` (the adapter's `userPageSize`). */
  userPageSize?: number;
}

/**
 * Connections in memory, kept as `DynamoConnectionStore` keeps them: a connection entry
 * (its topics a set, read back sorted), one entry under its user and one under each topic,
 * each with its expiry. Listings go in connection id order, a cursor being the last id read,
 * so pages stay put while connections come and go; an expired entry is left out but still
 * read, as DynamoDB filters after its limit (so a page can end with a cursor and nothing
 * after it). Only `topicPages` counts expired entries, as the adapter's key-only walk does.
 */
export class FakeConnectionStore implements ConnectionStore, ConnectionLifetimes {
  /** Connection entries by id. */
  readonly connections = new Map<string, Connection>();
  /** Every id `remove` was called with, in order. */
  readonly removed: string[] = [];
  /** The TTL (epoch s) each connection was put with. */
  readonly expiresAt = new Map<string, number>();
  userPageSize: number;
  private readonly now: () => number;
  /** User and topic entries by partition (`user acme/alice`, `topic acme/news`), then id. */
  private readonly entries = new Map<string, Map<string, Entry>>();

  constructor(options: FakeConnectionStoreOptions = {}) {
    this.now = options.now ?? (() => Number.NEGATIVE_INFINITY);
    this.userPageSize = options.userPageSize ?? 100;
  }

  async put(connection: Connection, expiresAt: number): Promise<void> {
    const { connectionId } = connection;
    const topics = unique(connection.topics);
    this.expiresAt.set(connectionId, expiresAt);
    this.connections.set(connectionId, { ...connection, topics });
    const entry = entryOf(connection, expiresAt);
    this.partition(userPartition(connection)).set(connectionId, entry);
    for (const topic of topics) {
      this.partition(topicPartition(connection.tenant, topic)).set(connectionId, { ...entry });
    }
  }

  async extend(connectionId: string, tokenExpiresAt: number): Promise<number> {
    const stored = this.connections.get(connectionId);
    if (stored === undefined) throw new NotFoundError('connection not found');
    if (stored.tokenExpiresAt !== undefined && stored.tokenExpiresAt >= tokenExpiresAt) {
      return stored.tokenExpiresAt;
    }
    stored.tokenExpiresAt = tokenExpiresAt;
    for (const entries of this.entries.values()) {
      const entry = entries.get(connectionId);
      if (entry !== undefined) entry.tokenExpiresAt = tokenExpiresAt;
    }
    return tokenExpiresAt;
  }

  async expiringIn(minute: number, cursor?: string): Promise<Page<ExpiringConnection>> {
    const items = [...this.connections.values()]
      .filter(
        ({ tokenExpiresAt }) =>
          tokenExpiresAt !== undefined && Math.floor(tokenExpiresAt / 60) === minute,
      )
      .filter(({ connectionId }) => cursor === undefined || connectionId > cursor)
      .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1))
      .map(({ connectionId, tenant, userId, tokenExpiresAt }) => ({
        connectionId,
        tenant,
        userId,
        tokenExpiresAt: tokenExpiresAt ?? 0,
      }));
    return { items };
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const stored = this.connections.get(connectionId);
    // TTL deletes lazily, so an expired connection is treated as gone.
    if (stored === undefined || !this.isLive(this.expiresAt.get(connectionId))) return undefined;
    const { email, ...rest } = stored;
    const connection: Connection = {
      ...rest,
      topicPatterns: [...stored.topicPatterns],
      topics: [...stored.topics].sort(),
    };
    if (typeof email === 'string') connection.email = email;
    return connection;
  }

  async remove(connectionId: string): Promise<void> {
    this.removed.push(connectionId);
    const stored = this.connections.get(connectionId);
    if (stored === undefined) return;
    this.entries.get(userPartition(stored))?.delete(connectionId);
    for (const topic of stored.topics) {
      this.entries.get(topicPartition(stored.tenant, topic))?.delete(connectionId);
    }
    this.connections.delete(connectionId);
  }

  listForUser(tenant: string, userId: string, cursor?: string): Promise<Page<ConnectionRef>> {
    return Promise.resolve(
      this.page(userPartition({ tenant, userId }), { cursor, limit: this.userPageSize }),
    );
  }

  async listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Promise<Page<ConnectionRef>> {
    return this.page(topicPartition(tenant, topic), page);
  }

  async topicPages(
    tenant: string,
    topic: string,
    walk: { cursor?: string; pageSize: number; maxPages: number },
  ): Promise<TopicPages> {
    const { pageSize, maxPages } = walk;
    if (!(pageSize >= 1 && maxPages >= 1)) throw new RangeError('a walk takes at least one page');
    const ids = this.sorted(topicPartition(tenant, topic))
      .map((entry) => entry.connectionId)
      .filter((id) => walk.cursor === undefined || id > walk.cursor);
    const pages: TopicRange[] = [];
    let cursor = walk.cursor;
    for (let start = 0; start < ids.length; start += pageSize) {
      if (pages.length === maxPages) return { pages, rest: cursor };
      const until = ids[Math.min(start + pageSize, ids.length) - 1] ?? '';
      pages.push({ cursor, until });
      cursor = until;
    }
    return { pages };
  }

  async subscribe(
    connection: Connection,
    topics: string[],
    expiresAt: number,
    limits?: { maxTopics: number },
  ): Promise<void> {
    const added = unique(topics);
    if (added.length === 0) return;
    const stored = this.connections.get(connection.connectionId);
    if (stored === undefined) throw new NotFoundError('connection not found');
    if (limits !== undefined && unique([...stored.topics, ...added]).length > limits.maxTopics) {
      throw tooManySubscriptions(limits.maxTopics);
    }
    stored.topics = unique([...stored.topics, ...added]);
    for (const topic of added) {
      this.partition(topicPartition(connection.tenant, topic)).set(
        connection.connectionId,
        entryOf(connection, expiresAt),
      );
    }
  }

  async unsubscribe(connection: Connection, topics: string[]): Promise<void> {
    const removed = unique(topics);
    for (const topic of removed) {
      this.entries.get(topicPartition(connection.tenant, topic))?.delete(connection.connectionId);
    }
    const stored = this.connections.get(connection.connectionId);
    if (stored) stored.topics = stored.topics.filter((topic) => !removed.includes(topic));
  }

  /**
   * One page, as DynamoDB answers the adapter's Query: it reads one entry more than `limit`
   * (in range, expired or not), leaves out the expired, and hands back a cursor after the
   * last kept entry when more live ones were read, or after the last entry read when it
   * stopped at its limit.
   */
  private page(
    partition: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Page<ConnectionRef> {
    const { cursor, until, limit } = page;
    if (until !== undefined && cursor !== undefined && cursor >= until) return { items: [] };
    const inRange = this.sorted(partition).filter(
      (entry) =>
        (cursor === undefined || entry.connectionId > cursor) &&
        (until === undefined || entry.connectionId <= until),
    );
    const read = inRange.slice(0, limit + 1);
    const live = read.filter((entry) => this.isLive(entry.expiresAt));
    const items = live
      .slice(0, limit)
      .map(({ connectionId, userId, tokenExpiresAt }) =>
        tokenExpiresAt === undefined
          ? { connectionId, userId }
          : { connectionId, userId, tokenExpiresAt },
      );
    const lastKept = items.at(-1);
    if (live.length > limit && lastKept) return { items, cursor: lastKept.connectionId };
    const stoppedAt = read.length > limit ? read.at(-1) : undefined;
    return stoppedAt ? { items, cursor: stoppedAt.connectionId } : { items };
  }

  private sorted(partition: string): Entry[] {
    return [...(this.entries.get(partition)?.values() ?? [])].sort((a, b) =>
      a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0,
    );
  }

  private partition(key: string): Map<string, Entry> {
    let entries = this.entries.get(key);
    if (entries === undefined) {
      entries = new Map();
      this.entries.set(key, entries);
    }
    return entries;
  }

  private isLive(expiresAt: number | undefined): boolean {
    return expiresAt !== undefined && expiresAt > Math.floor(this.now() / 1000);
  }
}

function entryOf(connection: Connection, expiresAt: number): Entry {
  const { connectionId, userId, tokenExpiresAt } = connection;
  return tokenExpiresAt === undefined
    ? { connectionId, userId, expiresAt }
    : { connectionId, userId, expiresAt, tokenExpiresAt };
}

function userPartition(who: { tenant: string; userId: string }): string {
  return `user ${who.tenant}/${who.userId}`;
}

function topicPartition(tenant: string, topic: string): string {
  return `topic ${tenant}/${topic}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
