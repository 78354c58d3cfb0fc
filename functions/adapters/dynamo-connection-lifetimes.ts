/**
 * `ConnectionLifetimes` over the connections table: the token expiry lives on the
 * connection entry (the truth), is copied to its user and topic entries (a hint the push
 * path reads without another request) and lists it under a sweep entry for its minute.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '#core/errors';
import { mapLimited } from '#core/limiter';
import type { Page } from '#core/model';
import type { ConnectionLifetimes, ExpiringConnection } from '#core/ports';
import { sweepEntry, sweepEntryKey, toConnection } from './dynamo-connection-items';
import {
  CONNECTION_PREFIX,
  connectionEntryKey,
  connectionSortKey,
  type ItemKey,
  sweepPartition,
  topicPartition,
  userPartition,
} from './dynamo-keys';
import { queryPartitionPage } from './dynamo-partition-page';

/** Entry updates in flight while a refresh copies the new expiry. */
const ENTRY_UPDATE_CONCURRENCY = 8;
/** Sweep entries read per page. */
const SWEEP_PAGE_SIZE = 100;

export class DynamoConnectionLifetimes implements ConnectionLifetimes {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async extend(connectionId: string, tokenExpiresAt: number): Promise<number> {
    let old: Record<string, unknown>;
    try {
      const { Attributes } = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionEntryKey(connectionId),
          UpdateExpression: 'SET #exp = :exp',
          // Never shortens: a late refresh with an older token changes nothing.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(#exp) OR #exp < :exp)',
          ExpressionAttributeNames: { '#exp': 'tokenExpiresAt' },
          ExpressionAttributeValues: { ':exp': tokenExpiresAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = Attributes ?? {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.heldExpiry(connectionId, error);
    }
    const connection = toConnection(connectionId, old);
    // The hints and the sweep entry after the truth: a failure here leaves a hint that is
    // too early, which only costs the push path a GetItem, never a wrongly closed socket.
    const keys: ItemKey[] = [
      {
        pk: userPartition(connection.tenant, connection.userId),
        sk: connectionSortKey(connectionId),
      },
      ...connection.topics.map((topic) => ({
        pk: topicPartition(connection.tenant, topic),
        sk: connectionSortKey(connectionId),
      })),
    ];
    await mapLimited(keys, ENTRY_UPDATE_CONCURRENCY, (key) => this.copyExpiry(key, tokenExpiresAt));
    const connectionExpiresAt = Number(old.expiresAt);
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: sweepEntry(connection, tokenExpiresAt, connectionExpiresAt),
      }),
    );
    const previous = connection.tokenExpiresAt;
    const moved =
      previous !== undefined &&
      sweepEntryKey(previous, connectionId).pk !== sweepEntryKey(tokenExpiresAt, connectionId).pk;
    if (moved) {
      await this.documentClient.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: sweepEntryKey(previous, connectionId),
        }),
      );
    }
    return tokenExpiresAt;
  }

  async expiringIn(minute: number, cursor?: string): Promise<Page<ExpiringConnection>> {
    return queryPartitionPage(
      this.documentClient,
      this.tableName,
      sweepPartition(minute),
      { cursor, skPrefix: CONNECTION_PREFIX, limit: SWEEP_PAGE_SIZE },
      (item): ExpiringConnection | undefined =>
        typeof item.tokenExpiresAt === 'number'
          ? {
              connectionId: String(item.connectionId),
              tenant: String(item.tenant),
              userId: String(item.userId),
              tokenExpiresAt: item.tokenExpiresAt,
            }
          : undefined,
    );
  }

  /** The expiry a connection holds, after a refresh found it no earlier than the one offered. */
  private async heldExpiry(connectionId: string, cause: unknown): Promise<number> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionEntryKey(connectionId),
        ConsistentRead: true,
        ProjectionExpression: 'tokenExpiresAt',
      }),
    );
    if (Item === undefined) throw new NotFoundError('connection not found', { cause });
    return Number(Item.tokenExpiresAt);
  }

  private async copyExpiry(key: ItemKey, tokenExpiresAt: number): Promise<void> {
    await this.documentClient
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #exp = :exp',
          // Only onto an entry still there, so a refresh racing a removal leaves no ghost.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(#exp) OR #exp < :exp)',
          ExpressionAttributeNames: { '#exp': 'tokenExpiresAt' },
          ExpressionAttributeValues: { ':exp': tokenExpiresAt },
        }),
      )
      .catch(ignoreConditionFailure);
  }
}

function ignoreConditionFailure(error: unknown): void {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
}
