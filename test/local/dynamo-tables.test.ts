import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS, TOPOLOGY } from '#config/topology';
import { createTables } from '#local/dynamo-tables';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;

beforeAll(async () => {
  local = await startDynamoLocal();
});

afterAll(async () => {
  await local?.stop();
});

async function expectHeraldTable(client: DynamoDBClient, tableName: string) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.TableStatus).toBe('ACTIVE');
  expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  expect(Table?.KeySchema).toEqual([
    { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
    { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
  ]);
  expect(Table?.AttributeDefinitions).toEqual(
    expect.arrayContaining([
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
    ]),
  );
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  expect(TimeToLiveDescription).toEqual({
    TimeToLiveStatus: 'ENABLED',
    AttributeName: TABLE_KEYS.ttlAttribute,
  });
}

describe('createTables', () => {
  it('creates both tables with the shared key schema, on demand, with TTL on expiresAt', async () => {
    await expectHeraldTable(local.client, local.tables.connections);
    await expectHeraldTable(local.client, local.tables.notifications);
  });

  it('is idempotent: running it again keeps the tables and their items', async () => {
    const key = { pk: { S: 'U#acme#alice' }, sk: { S: 'STATE' } };
    await local.client.send(
      new PutItemCommand({
        TableName: local.tables.notifications,
        Item: { ...key, unread: { N: '3' } },
      }),
    );

    await createTables(local.client, local.tables);

    await expectHeraldTable(local.client, local.tables.notifications);
    const { Item } = await local.client.send(
      new GetItemCommand({ TableName: local.tables.notifications, Key: key }),
    );
    expect(Item?.unread).toEqual({ N: '3' });
  });

  it('copes with two launchers creating the same tables at once', async () => {
    const names = { connections: 'race-connections', notifications: 'race-notifications' };

    await Promise.all([createTables(local.client, names), createTables(local.client, names)]);

    await expectHeraldTable(local.client, names.connections);
    await expectHeraldTable(local.client, names.notifications);
  });

  it('creates the local stack’s tables under the topology’s names', async () => {
    const names = {
      connections: TOPOLOGY.tables.connections.localName,
      notifications: TOPOLOGY.tables.notifications.localName,
    };

    await createTables(local.client, names);

    await expectHeraldTable(local.client, names.connections);
    await expectHeraldTable(local.client, names.notifications);
  });

  it('are visible to any client of the emulator, whatever its credentials and region', async () => {
    const other = new DynamoDBClient({
      endpoint: local.endpoint,
      region: 'eu-west-1',
      // DynamoDB Local 2+ accepts only letters and digits in an access key id.
      credentials: { accessKeyId: 'SomeoneElse1', secretAccessKey: 'other' },
    });
    try {
      const { TableNames = [] } = await other.send(new ListTablesCommand({}));
      expect(TableNames).toEqual(
        expect.arrayContaining([local.tables.connections, local.tables.notifications]),
      );
    } finally {
      other.destroy();
    }
  });
});
