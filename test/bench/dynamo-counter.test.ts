import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  countDynamoRequests,
  operationOf,
  subtractCounts,
  totalRequests,
} from '#bench/dynamo-counter';

/** A DynamoDB that answers every request with `body` (and records what it was asked). */
function fakeDynamo(
  answer: (target: string, input: Record<string, unknown>) => { status: number; body: object },
) {
  const asked: Array<Record<string, unknown>> = [];
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string>; body?: string | Uint8Array }) {
        const text =
          typeof request.body === 'string'
            ? request.body
            : new TextDecoder().decode(request.body ?? new Uint8Array());
        const input = JSON.parse(text) as Record<string, unknown>;
        asked.push(input);
        const { status, body } = answer(request.headers['x-amz-target'] ?? '', input);
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
          },
        };
      },
    },
  });
  return { client, asked };
}

describe('countDynamoRequests', () => {
  it('counts requests by operation and the capacity DynamoDB reports, asking it to report', async () => {
    const { client, asked } = fakeDynamo((target) =>
      target.endsWith('PutItem')
        ? { status: 200, body: { ConsumedCapacity: { TableName: 't', CapacityUnits: 1 } } }
        : { status: 200, body: { ConsumedCapacity: { TableName: 't', CapacityUnits: 0.5 } } },
    );
    const counter = countDynamoRequests(client);
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } }));
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } }));
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'c' } }));
    expect(counter.snapshot()).toEqual({
      requests: { PutItem: 1, GetItem: 2 },
      readUnits: 1,
      writeUnits: 1,
    });
    expect(asked.every((input) => input.ReturnConsumedCapacity === 'TOTAL')).toBe(true);
  });

  it('charges a failed conditional write one WRU, as DynamoDB does', async () => {
    const { client } = fakeDynamo(() => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'no',
      },
    }));
    const counter = countDynamoRequests(client);
    const doc = DynamoDBDocumentClient.from(client);
    await expect(
      doc.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } })),
    ).rejects.toThrow();
    expect(counter.snapshot()).toMatchObject({ requests: { PutItem: 1 }, writeUnits: 1 });
  });
});

describe('the counts', () => {
  it('name document-client and low-level commands alike', () => {
    expect(operationOf('PutCommand')).toBe('PutItem');
    expect(operationOf('PutItemCommand')).toBe('PutItem');
    expect(operationOf('BatchWriteCommand')).toBe('BatchWriteItem');
    expect(operationOf('QueryCommand')).toBe('Query');
  });

  it('subtract and total', () => {
    const before = { requests: { Query: 2, PutItem: 1 }, readUnits: 1, writeUnits: 1 };
    const after = { requests: { Query: 5, PutItem: 1, Scan: 1 }, readUnits: 4, writeUnits: 1 };
    const delta = subtractCounts(after, before);
    expect(delta).toEqual({ requests: { Query: 3, Scan: 1 }, readUnits: 3, writeUnits: 0 });
    expect(totalRequests(delta)).toBe(4);
    expect(totalRequests(delta, 'Scan')).toBe(1);
    expect(totalRequests(delta, 'GetItem')).toBe(0);
  });
});
