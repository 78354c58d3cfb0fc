import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS } from '#config/topology';
import { startDynamoDbFaults } from '#local/faults/dynamodb-faults';
import type { FaultPlan } from '#local/faults/fault-plan';
import type { FaultProxy } from '#local/faults/fault-proxy';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';
import { outcomeOf } from '#test/support/faults';

let local: DynamoLocal;
const proxies: FaultProxy[] = [];
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  local = await startDynamoLocal();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await local?.stop();
});

async function clientThrough(plan: FaultPlan, maxAttempts?: number) {
  const proxy = await startDynamoDbFaults(local.endpoint, plan);
  proxies.push(proxy);
  const client = new DynamoDBClient({
    endpoint: proxy.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(maxAttempts !== undefined && { maxAttempts }),
  });
  clients.push(client);
  return client;
}

const key = (id: string) => ({
  [TABLE_KEYS.partitionKey]: { S: `fault#${id}` },
  [TABLE_KEYS.sortKey]: { S: 'item' },
});

describe('DynamoDB fault proxy (in front of DynamoDB Local)', () => {
  it('answers as AWS does when throttling: the SDK raises ProvisionedThroughputExceededException', async () => {
    const client = await clientThrough({ dynamodb: { throttleRate: 1 } }, 1);
    const error = await client
      .send(new GetItemCommand({ TableName: local.tables.notifications, Key: key('a') }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as ProvisionedThroughputExceededException).$metadata.httpStatusCode).toBe(400);
    expect((error as ProvisionedThroughputExceededException).message).toMatch(
      /provisioned throughput/,
    );
  });

  it('is retried by the SDK as a throttle, as against AWS', async () => {
    const client = await clientThrough({ dynamodb: { throttleRate: 1 } }, 2);
    const error = (await client
      .send(new GetItemCommand({ TableName: local.tables.notifications, Key: key('a') }))
      .catch((caught: unknown) => caught)) as ProvisionedThroughputExceededException;
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect(error.$metadata.attempts).toBe(2);
  });

  it('lets control-plane calls through even at rate 1', async () => {
    const client = await clientThrough({ dynamodb: { throttleRate: 1 } }, 1);
    const { Table } = await client.send(
      new DescribeTableCommand({ TableName: local.tables.notifications }),
    );
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('passes every request to DynamoDB Local at rate 0', async () => {
    const client = await clientThrough({ dynamodb: { throttleRate: 0 } }, 1);
    const TableName = local.tables.notifications;
    await client.send(new PutItemCommand({ TableName, Item: { ...key('b'), n: { N: '1' } } }));
    const { Item } = await client.send(new GetItemCommand({ TableName, Key: key('b') }));
    expect(Item?.n).toEqual({ N: '1' });
  });

  it('throttles the same requests again for the same seed', async () => {
    const sequence = async () => {
      const client = await clientThrough({ dynamodb: { throttleRate: 0.5 }, seed: 11 }, 1);
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        outcomes.push(
          await outcomeOf(
            client.send(
              new GetItemCommand({ TableName: local.tables.notifications, Key: key('c') }),
            ),
          ),
        );
      }
      return outcomes;
    };
    const first = await sequence();
    expect(new Set(first)).toEqual(new Set(['ok', 'ProvisionedThroughputExceededException']));
    expect(await sequence()).toEqual(first);
  });
});
