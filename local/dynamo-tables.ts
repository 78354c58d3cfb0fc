/**
 * Creates Herald's tables in a DynamoDB that has none yet (DynamoDB Local, or a
 * LocalStack without the CDK stack), with the key schema and TTL the stack deploys.
 * Safe to run against tables that already exist.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { INBOX_INDEX_LIST, INBOX_INDEX_PROJECTION } from '#config/inbox-indexes';
import { TABLE_KEYS } from '#config/topology';

export interface TableNames {
  connections: string;
  notifications: string;
}

/** Seconds to wait for a new table to become ACTIVE (DynamoDB Local takes well under one). */
const ACTIVE_TIMEOUT_SECONDS = 60;

export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all([
    createTable(client, names.connections),
    createTable(client, names.notifications, { inboxIndexes: true }),
  ]);
}

async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: { inboxIndexes?: boolean } = {},
): Promise<void> {
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
            { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
            ...(options.inboxIndexes
              ? INBOX_INDEX_LIST.map((index) => ({
                  AttributeName: index.sortKey,
                  AttributeType: 'S' as const,
                }))
              : []),
          ],
          KeySchema: [
            { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
          ],
          ...(options.inboxIndexes ? { LocalSecondaryIndexes: inboxIndexes() } : {}),
        }),
      );
    } catch (error) {
      // Another launcher created it between our look and our create: same outcome.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  // Waits for ACTIVE, also for a table someone else is still creating.
  await waitUntilTableExists(
    { client, maxWaitTime: ACTIVE_TIMEOUT_SECONDS, minDelay: 1, maxDelay: 2 },
    { TableName: tableName },
  );
  await enableTimeToLive(client, tableName);
}

/** The sparse inbox indexes, as `infra/constructs/herald-table.ts` deploys them. */
function inboxIndexes() {
  return INBOX_INDEX_LIST.map((index) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: {
      ProjectionType: 'INCLUDE' as const,
      NonKeyAttributes: [...INBOX_INDEX_PROJECTION],
    },
  }));
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  // Enabling it again is a ValidationException, so only a disabled TTL is switched on.
  if (await timeToLiveOn(client, tableName)) return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Another launcher switched it on between our look and our update: same outcome.
    if (!(await timeToLiveOn(client, tableName))) throw error;
  }
}

async function timeToLiveOn(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  return status === 'ENABLED' || status === 'ENABLING';
}
