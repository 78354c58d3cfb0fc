/**
 * Connections with ids unique to a test file, and reads of the connections table behind
 * `DynamoConnectionStore`, for its tests on DynamoDB Local.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Connection, ConnectionRef, Page } from '#core/model';
import type { DynamoLocal } from './dynamo-local';

export const START_MS = Date.UTC(2030, 0, 1);
export const HOUR_S = 3600;

let sequence = 0;

/** A connection with ids unique to this run, so tests never see each other's items. */
export function connection(overrides: Partial<Connection> = {}): Connection {
  sequence += 1;
  return {
    connectionId: `conn-${sequence}=`,
    tenant: 'acme',
    userId: `user-${sequence}`,
    topicPatterns: ['project.*'],
    connectedAt: START_MS,
    topics: [],
    ...overrides,
  };
}

export async function rawItem(local: DynamoLocal, pk: string, sk: string) {
  const { Item } = await local.doc.send(
    new GetCommand({ TableName: local.tables.connections, Key: { pk, sk }, ConsistentRead: true }),
  );
  return Item;
}

export async function partition(local: DynamoLocal, pk: string) {
  const { Items = [] } = await local.doc.send(
    new QueryCommand({
      TableName: local.tables.connections,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** Follows cursors to the end, as the fan-out does. */
export async function everyPage(next: (cursor?: string) => Promise<Page<ConnectionRef>>) {
  const all: ConnectionRef[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await next(cursor);
    all.push(...page.items);
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== undefined);
  return { all, pages };
}
