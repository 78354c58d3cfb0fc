/**
 * `ConnectionStore` over one DynamoDB table. Three kinds of item, all keyed so that
 * every access is a GetItem or a Query (see `dynamo-keys.ts`):
 * - user entry `U#{tenant}#{userId}` / `C#{connectionId}`: a user's connections (fan-out)
 * - connection entry `C#{connectionId}` / `C`: who holds a connection, what it listens to
 * - topic entry `T#{tenant}#{topic}` / `C#{connectionId}`: a topic's subscribers (broadcast)
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError, tooManySubscriptions } from '#core/errors';
import type { Connection, ConnectionRef, Page } from '#core/model';
import { type ConnectionStore, systemClock, type TopicPages, type TopicRange } from '#core/ports';
import { batchWriteAll, type WriteRequest } from './dynamo-batch';
import { sweepEntry, sweepEntryKey, toConnection } from './dynamo-connection-items';
import {
  CONNECTION_PREFIX,
  connectionEntryKey,
  connectionSortKey,
  decodeCursor,
  encodeCursor,
  epochSeconds,
  topicPartition,
  userPartition,
} from './dynamo-keys';

/** More than any one user plausibly has open; the fan-out pages through the rest. */
const DEFAULT_USER_PAGE_SIZE = 100;

export interface ConnectionStoreOptions {
  /** Waits between batch retries; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Connections per page of `listForUser`, so one page's memory stays bounded. */
  userPageSize?: number;
}

export class DynamoConnectionStore implements ConnectionStore {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly userPageSize: number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    options: ConnectionStoreOptions = {},
  ) {
    this.sleep = options.sleep ?? systemClock.sleep;
    this.userPageSize = options.userPageSize ?? DEFAULT_USER_PAGE_SIZE;
  }

  async put(connection: Connection, expiresAt: number): Promise<void> {
    const { connectionId, tenant, userId, topicPatterns, email, connectedAt, tokenExpiresAt } =
      connection;
    const topics = unique(connection.topics);
    const entries: WriteRequest[] = [
      { PutRequest: { Item: this.userEntry(connection, expiresAt) } },
      ...topics.map((topic) => ({
        PutRequest: { Item: this.topicEntry(connection, topic, expiresAt) },
      })),
      {
        PutRequest: {
          Item: {
            ...connectionEntryKey(connectionId),
            tenant,
            userId,
            topicPatterns,
            email,
            connectedAt,
            // An empty string set is not a DynamoDB value: absent means "no topics".
            topics: topics.length > 0 ? new Set(topics) : undefined,
            tokenExpiresAt,
            expiresAt,
          },
        },
      },
      // The sweep finds it under the minute its token runs out.
      ...(tokenExpiresAt === undefined
        ? []
        : [{ PutRequest: { Item: sweepEntry(connection, tokenExpiresAt, expiresAt) } }]),
    ];
    await this.batchWrite(entries);
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionEntryKey(connectionId),
        ConsistentRead: true,
      }),
    );
    // TTL deletes lazily (up to days late), so an expired item is treated as gone.
    if (Item === undefined || !this.isLive(Item.expiresAt)) return undefined;
    return toConnection(connectionId, Item);
  }

  async remove(connectionId: string): Promise<void> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionEntryKey(connectionId),
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return;
    const connection = toConnection(connectionId, Item);
    const deletes: WriteRequest[] = [
      { DeleteRequest: { Key: this.userEntryKey(connection) } },
      ...connection.topics.map((topic) => ({
        DeleteRequest: { Key: this.topicEntryKey(connection, topic) },
      })),
      ...(connection.tokenExpiresAt === undefined
        ? []
        : [{ DeleteRequest: { Key: sweepEntryKey(connection.tokenExpiresAt, connectionId) } }]),
      // Last, so that a removal that fails part-way can be retried: the connection
      // entry still lists the topic entries left to delete.
      { DeleteRequest: { Key: connectionEntryKey(connectionId) } },
    ];
    await this.batchWrite(deletes);
  }

  listForUser(tenant: string, userId: string, cursor?: string): Promise<Page<ConnectionRef>> {
    return this.listConnections(userPartition(tenant, userId), {
      cursor,
      limit: this.userPageSize,
    });
  }

  listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Promise<Page<ConnectionRef>> {
    return this.listConnections(topicPartition(tenant, topic), page);
  }

  async topicPages(
    tenant: string,
    topic: string,
    walk: { cursor?: string; pageSize: number; maxPages: number },
  ): Promise<TopicPages> {
    const pk = topicPartition(tenant, topic);
    const { pageSize, maxPages } = walk;
    if (!(pageSize >= 1 && maxPages >= 1)) throw new RangeError('a walk takes at least one page');
    const cursorAt = (sk: string) => encodeCursor({ pk, sk }) as string;
    // One entry past the last page, to know whether the topic goes on.
    const wanted = pageSize * maxPages + 1;
    const pages: TopicRange[] = [];
    let start = walk.cursor;
    let inPage = 0;
    let read = 0;
    let last = '';
    let startKey = decodeCursor(walk.cursor, { pk, skPrefix: CONNECTION_PREFIX });
    do {
      // Keys only, expired entries counted too: a page's range then never holds more than
      // `pageSize` entries, so listing it takes one Query.
      const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ProjectionExpression: '#sk',
          ExpressionAttributeNames: { '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': pk, ':prefix': CONNECTION_PREFIX },
          ExclusiveStartKey: startKey,
          Limit: wanted - read,
        }),
      );
      for (const item of Items) {
        if (inPage === pageSize) {
          // This entry opens a page, so the one before it is full and ends at `last`.
          const until = cursorAt(last);
          pages.push({ cursor: start, until });
          if (pages.length === maxPages) return { pages, rest: until };
          start = until;
          inPage = 0;
        }
        inPage++;
        read++;
        last = String(item.sk);
      }
      startKey = LastEvaluatedKey as typeof startKey;
    } while (startKey !== undefined);
    if (inPage > 0) pages.push({ cursor: start, until: cursorAt(last) });
    return { pages };
  }

  async subscribe(
    connection: Connection,
    topics: string[],
    expiresAt: number,
    limits?: { maxTopics: number },
  ): Promise<void> {
    const wanted = unique(topics);
    if (wanted.length === 0) return;
    if (limits !== undefined && wanted.length > limits.maxTopics) {
      throw tooManySubscriptions(limits.maxTopics);
    }
    // The set first, so a connection that is gone (or over its cap) gets no topic entries.
    // The cheap condition counts topics already held as new; only a refusal reads, then
    // adds just the new ones (a second refusal means another frame changed the set).
    let added = wanted;
    for (let attempt = 1; added.length > 0; attempt++) {
      try {
        await this.addTopics(connection.connectionId, added, limits);
        break;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Uncapped, the condition is only "the connection exists": nothing to read.
        const current = limits === undefined ? undefined : await this.get(connection.connectionId);
        if (current === undefined || limits === undefined) {
          throw new NotFoundError('connection not found', { cause: error });
        }
        added = wanted.filter((topic) => !current.topics.includes(topic));
        if (current.topics.length + added.length > limits.maxTopics || attempt > 1) {
          throw tooManySubscriptions(limits.maxTopics);
        }
      }
    }
    await this.batchWrite(
      wanted.map((topic) => ({
        PutRequest: { Item: this.topicEntry(connection, topic, expiresAt) },
      })),
    );
  }

  /** ADDs to the topic set of a live connection that then holds at most `maxTopics`. */
  private async addTopics(
    connectionId: string,
    added: string[],
    limits: { maxTopics: number } | undefined,
  ): Promise<void> {
    const capped = limits !== undefined;
    await this.documentClient.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: connectionEntryKey(connectionId),
        UpdateExpression: 'ADD #topics :topics',
        ConditionExpression: capped
          ? 'attribute_exists(pk) AND (attribute_not_exists(#topics) OR size(#topics) <= :room)'
          : 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#topics': 'topics' },
        ExpressionAttributeValues: {
          ':topics': new Set(added),
          ...(capped ? { ':room': limits.maxTopics - added.length } : {}),
        },
      }),
    );
  }

  async unsubscribe(connection: Connection, topics: string[]): Promise<void> {
    const removed = unique(topics);
    if (removed.length === 0) return;
    // Entries first: a topic left in the set without its entry is harmless, an entry
    // left without the set would keep receiving broadcasts.
    await this.batchWrite(
      removed.map((topic) => ({ DeleteRequest: { Key: this.topicEntryKey(connection, topic) } })),
    );
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionEntryKey(connection.connectionId),
          UpdateExpression: 'DELETE #topics :topics',
          // Without it, an update of a removed connection would recreate a bare item.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#topics': 'topics' },
          ExpressionAttributeValues: { ':topics': new Set(removed) },
        }),
      );
    } catch (error) {
      // A connection that is gone listens to nothing: the unsubscribe already holds.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * One page of a partition's connection entries. It asks for one entry more than `limit`:
   * DynamoDB hands back a `LastEvaluatedKey` whenever it stops at the limit, even when
   * nothing follows, so a page ends the listing only when that extra entry is missing.
   */
  private async listConnections(
    pk: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Promise<Page<ConnectionRef>> {
    const range = { pk, skPrefix: CONNECTION_PREFIX };
    // Between the prefix and an entry that starts with it: only entries with the prefix.
    const until = page.until === undefined ? undefined : decodeCursor(page.until, range)?.sk;
    const startKey = decodeCursor(page.cursor, range);
    // A range read to its end (DynamoDB's key can be its last entry): nothing is left in it.
    if (until !== undefined && startKey !== undefined && startKey.sk >= until) return { items: [] };
    const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression:
          until === undefined
            ? 'pk = :pk AND begins_with(sk, :prefix)'
            : 'pk = :pk AND sk BETWEEN :prefix AND :until',
        FilterExpression: '#expiresAt > :now',
        ProjectionExpression: '#sk, #connectionId, #userId, #tokenExpiresAt',
        ExpressionAttributeNames: {
          '#sk': 'sk',
          '#connectionId': 'connectionId',
          '#userId': 'userId',
          '#expiresAt': 'expiresAt',
          '#tokenExpiresAt': 'tokenExpiresAt',
        },
        ExpressionAttributeValues: {
          ':pk': pk,
          ':prefix': CONNECTION_PREFIX,
          ':now': epochSeconds(this.now()),
          ...(until === undefined ? {} : { ':until': until }),
        },
        ExclusiveStartKey: startKey,
        Limit: page.limit + 1,
      }),
    );
    const kept = Items.slice(0, page.limit);
    const items = kept.map((item) => {
      const ref: ConnectionRef = {
        connectionId: String(item.connectionId),
        userId: String(item.userId),
      };
      if (typeof item.tokenExpiresAt === 'number') ref.tokenExpiresAt = item.tokenExpiresAt;
      return ref;
    });
    const lastKept = kept.at(-1);
    // The extra entry came back: more follow this page's last one. Fewer than `limit` with a
    // key: DynamoDB stopped early (1 MB read, or expired entries filtered out), so go on there.
    const next =
      Items.length > page.limit && lastKept !== undefined
        ? encodeCursor({ pk, sk: String(lastKept.sk) })
        : encodeCursor(LastEvaluatedKey);
    return next === undefined ? { items } : { items, cursor: next };
  }

  private batchWrite(requests: WriteRequest[]): Promise<void> {
    return batchWriteAll(this.documentClient, this.tableName, requests, this.sleep);
  }

  private isLive(expiresAt: unknown): boolean {
    return typeof expiresAt === 'number' && expiresAt > epochSeconds(this.now());
  }

  private userEntryKey(connection: Connection) {
    return {
      pk: userPartition(connection.tenant, connection.userId),
      sk: connectionSortKey(connection.connectionId),
    };
  }

  private userEntry(connection: Connection, expiresAt: number) {
    const { connectionId, userId, tokenExpiresAt } = connection;
    return { ...this.userEntryKey(connection), connectionId, userId, tokenExpiresAt, expiresAt };
  }

  private topicEntryKey(connection: Connection, topic: string) {
    return {
      pk: topicPartition(connection.tenant, topic),
      sk: connectionSortKey(connection.connectionId),
    };
  }

  private topicEntry(connection: Connection, topic: string, expiresAt: number) {
    const { connectionId, userId, tokenExpiresAt } = connection;
    const key = this.topicEntryKey(connection, topic);
    return { ...key, connectionId, userId, tokenExpiresAt, expiresAt };
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
