/**
 * BatchGetItem and BatchWriteItem for any number of keys: 100 keys a request, the requests side by side, and
 * the keys DynamoDB leaves unprocessed (it throttled them) asked again after a backoff.
 */
import type { BatchWriteCommandInput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type BackoffPolicy, backoff } from '#core/backoff';
import { RetryableError } from '#core/errors';
import type { ItemKey } from './dynamo-keys';

/** How a group waits before asking again: the policy, and the clock's sleep. */
export interface BatchBackoff {
  policy: BackoffPolicy;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
}

/** BatchGetItem takes 100 keys. */
export const BATCH_GET_KEYS = 100;

export interface BatchGetOptions {
  projection: string;
  names?: Record<string, string>;
  consistentRead: boolean;
  /** Requests one group of keys may take while some keep coming back unprocessed. */
  attempts: number;
  /** Waits before each request of a group after its first. */
  backoff: BatchBackoff;
  /** What is read, for the error when DynamoDB keeps leaving keys unprocessed. */
  what: string;
}

/** The items found for `keys` (distinct keys: DynamoDB refuses a request naming one twice). */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly ItemKey[],
  options: BatchGetOptions,
): Promise<Record<string, unknown>[]> {
  const groups: ItemKey[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
    groups.push(keys.slice(i, i + BATCH_GET_KEYS));
  }
  const found = await Promise.all(groups.map((group) => readGroup(doc, tableName, group, options)));
  return found.flat();
}

async function readGroup(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: ItemKey[],
  options: BatchGetOptions,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let pending: Record<string, unknown>[] = keys.map((key) => ({ ...key }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    const { Responses, UnprocessedKeys } = await doc.send(
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: pending,
            ConsistentRead: options.consistentRead,
            ProjectionExpression: options.projection,
            ...(options.names && { ExpressionAttributeNames: options.names }),
          },
        },
      }),
    );
    items.push(...(Responses?.[tableName] ?? []));
    pending = UnprocessedKeys?.[tableName]?.Keys ?? [];
    if (pending.length === 0) break;
    if (attempt >= options.attempts) {
      throw new RetryableError(`${options.what} keep being throttled`);
    }
    const { policy, sleep, random } = options.backoff;
    await backoff(attempt, policy, sleep, random);
  }
  return items;
}

export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** BatchWriteItem takes at most 25 puts and deletes per request. */
const BATCH_WRITE_SIZE = 25;
/** Attempts per chunk before unprocessed items are reported as a retryable failure. */
const MAX_BATCH_WRITE_ATTEMPTS = 8;
/** Waits before resending: 100 ms ceiling for the first resend, doubling, at most 2 s. */
const BATCH_WRITE_BACKOFF: BackoffPolicy = { baseDelayMs: 100, maxDelayMs: 2_000 };

/** Writes or deletes in chunks of 25, one after another, resending what DynamoDB left unprocessed. */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < requests.length; start += BATCH_WRITE_SIZE) {
    let pending = requests.slice(start, start + BATCH_WRITE_SIZE);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_BATCH_WRITE_ATTEMPTS) {
        throw new RetryableError(`${pending.length} writes still unprocessed after retries`);
      }
      if (attempt > 1) await backoff(attempt - 1, BATCH_WRITE_BACKOFF, sleep);
      const { UnprocessedItems } = await doc.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = UnprocessedItems?.[tableName] ?? [];
    }
  }
}
