/**
 * The benchmark's world: `size` connections, one per user, all of one tenant. Topic
 * `bench.k<K>` holds the first K connections for each measured K, so the audiences nest.
 * Herald's table gets the items `DynamoConnectionStore` queries (user and topic entries,
 * keyed by the same helpers); the naive table gets one item per connection.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  connectionSortKey,
  epochSeconds,
  topicPartition,
  userPartition,
} from '#adapters/dynamo-keys';
import { batchWrite, type NaiveConnection, putNaiveConnections } from './naive-fan-out';

export const BENCH_TENANT = 'bench';

export const topicFor = (k: number): string => `bench.k${k}`;
export const userFor = (index: number): string => `user-${index}`;
/** Shaped like API Gateway's ids (base64 ending in `=`), distinct per index. */
export const connectionFor = (index: number): string =>
  `${Buffer.from(`conn-${index}`).toString('base64url')}=`;

export interface WorldTables {
  connections: string;
  naive: string;
}

/**
 * Writes the world for audiences of the given sizes. Connection entries (`C#id`) are left
 * out: only pruning reads them, and no connection is gone in these runs.
 */
export async function seedWorld(
  doc: DynamoDBDocumentClient,
  tables: WorldTables,
  sizes: readonly number[],
  now = Date.now(),
): Promise<void> {
  const size = Math.max(...sizes);
  const expiresAt = epochSeconds(now) + 6 * 3600;
  const herald: Array<{ PutRequest: { Item: Record<string, unknown> } }> = [];
  const naive: NaiveConnection[] = [];
  for (let index = 0; index < size; index++) {
    const connectionId = connectionFor(index);
    const userId = userFor(index);
    const topics = sizes.filter((k) => index < k).map(topicFor);
    const entry = { connectionId, userId, expiresAt };
    herald.push({
      PutRequest: {
        Item: {
          pk: userPartition(BENCH_TENANT, userId),
          sk: connectionSortKey(connectionId),
          ...entry,
        },
      },
    });
    for (const topic of topics) {
      herald.push({
        PutRequest: {
          Item: {
            pk: topicPartition(BENCH_TENANT, topic),
            sk: connectionSortKey(connectionId),
            ...entry,
          },
        },
      });
    }
    naive.push({ connectionId, userId, topics });
  }
  await Promise.all([
    batchWrite(doc, tables.connections, herald),
    putNaiveConnections(doc, tables.naive, naive),
  ]);
}
