/**
 * DynamoDB Local for integration tests: one in-memory java process per test file, on a
 * free port, with Herald's tables created under unique names. Call `startDynamoLocal()`
 * in `beforeAll` and `stop()` in `afterAll`; the process is also killed when the test
 * process exits, so no java is ever left behind.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#adapters/aws-clients';
import { startDynamoDbLocal } from '#local/dynamo-local';
import { createTables, type TableNames } from '#local/dynamo-tables';

export interface DynamoLocal {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  /** Kills the java process and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

// DynamoDB Local accepts any credentials; static ones keep the SDK from looking for real ones.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startDynamoLocal(): Promise<DynamoLocal> {
  const dynamo = await startDynamoDbLocal({ port: 0 });
  const { endpoint } = dynamo;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const doc = createDocumentClient(client);
  const suffix = randomUUID().slice(0, 8);
  const tables = {
    connections: `herald-connections-${suffix}`,
    notifications: `herald-notifications-${suffix}`,
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      client.destroy();
      await dynamo.stop();
    })();
    return stopping;
  };
  try {
    await createTables(client, tables);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, client, doc, tables, stop };
}
