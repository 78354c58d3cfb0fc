/**
 * The baseline Herald is measured against, written for the benchmark: the fan-out of the
 * best-known AWS WebSocket samples. One table keyed by connection id, one Scan over all of
 * it per message (whatever the audience), then PostToConnection to every match, either all
 * at once (`Promise.all`, no bound) or one after another.
 *
 * Unlike the samples, the Scan follows `LastEvaluatedKey`: an unpaginated Scan silently
 * skips every connection past the first 1 MB, and the comparison is about speed and cost,
 * not about who is missed.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Audience } from '#core/model';

/** One item per connection, as the samples keep them (plus who holds it and its topics). */
export interface NaiveConnection {
  connectionId: string;
  userId: string;
  topics: string[];
}

export type NaiveMode = 'unbounded' | 'sequential';

export interface NaiveDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** PostToConnection; a rejection counts as a failure (the samples log it and go on). */
  post(connectionId: string, data: string): Promise<void>;
}

export interface NaiveResult {
  scanned: number;
  delivered: number;
  failed: number;
}

/** Tells whether a stored connection belongs to the audience. */
export function audienceMatcher(audience: Audience): (connection: NaiveConnection) => boolean {
  if ('topic' in audience) return (connection) => connection.topics.includes(audience.topic);
  const users = new Set(audience.users);
  return (connection) => users.has(connection.userId);
}

/** Reads every connection with a Scan (page after page) and keeps the audience's. */
export async function scanAudience(
  deps: Pick<NaiveDeps, 'doc' | 'tableName'>,
  audience: Audience,
): Promise<{ scanned: number; matches: NaiveConnection[] }> {
  const isMember = audienceMatcher(audience);
  const matches: NaiveConnection[] = [];
  let scanned = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({ TableName: deps.tableName, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      scanned++;
      const connection: NaiveConnection = {
        connectionId: String(item.connectionId),
        userId: String(item.userId),
        topics: Array.isArray(item.topics) ? item.topics.map(String) : [],
      };
      if (isMember(connection)) matches.push(connection);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { scanned, matches };
}

/** Sends `frame` to the audience the naive way. */
export async function naiveFanOut(
  deps: NaiveDeps,
  audience: Audience,
  frame: string,
  mode: NaiveMode,
): Promise<NaiveResult> {
  const { scanned, matches } = await scanAudience(deps, audience);
  const result: NaiveResult = { scanned, delivered: 0, failed: 0 };
  const send = async (connection: NaiveConnection) => {
    try {
      await deps.post(connection.connectionId, frame);
      result.delivered++;
    } catch {
      result.failed++;
    }
  };
  if (mode === 'unbounded') {
    await Promise.all(matches.map(send));
  } else {
    for (const connection of matches) await send(connection);
  }
  return result;
}

/** Creates the naive connections table (key: `connectionId`) unless it exists. */
export async function createNaiveTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
}

/** Writes connections 25 at a time, resending what DynamoDB leaves unprocessed. */
export async function putNaiveConnections(
  doc: DynamoDBDocumentClient,
  tableName: string,
  connections: readonly NaiveConnection[],
): Promise<void> {
  const items = connections.map((connection) => ({ PutRequest: { Item: { ...connection } } }));
  await batchWrite(doc, tableName, items);
}

type WriteRequest = { PutRequest: { Item: Record<string, unknown> } };

export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  parallel = 4,
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < chunks.length; index = next++) {
      let pending = chunks[index] ?? [];
      while (pending.length > 0) {
        const { UnprocessedItems } = await doc.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
        );
        pending = (UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
