/**
 * DynamoDB's TTL process for the local stack, which DynamoDB Local does not run: every
 * interval it deletes the notifications whose `expiresAt` has passed and hands them to the
 * inbox-expiry handler as the stream records AWS makes for a TTL deletion (REMOVE, by the
 * DynamoDB service principal, keys and old image as AttributeValues), filtered by the very
 * pattern the AWS event source uses. The handler cannot tell it from AWS.
 *
 * Finding them is a Scan with a filter: fine on one machine, and it stands in for DynamoDB's
 * own background process, which Herald's functions never do (they may not Scan).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TABLE_KEYS } from '#config/topology';
import { TTL_REMOVAL_FILTER, TTL_REMOVAL_IDENTITY, TTL_STREAM } from '#config/ttl-removal';
import { matchesPattern } from './event-filter';

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  // biome-ignore lint/suspicious/noConfusingVoidType: as aws-lambda's DynamoDBStreamHandler
) => Promise<DynamoDBBatchResponse | void>;

export interface TtlSweeperOptions {
  client: DynamoDBClient;
  tableName: string;
  handler: StreamHandler;
  /** Time between the end of one sweep and the start of the next. */
  intervalMs: number;
  region: string;
  now?: () => number;
  log?: (message: string) => void;
}

export interface TtlSweeper {
  /** One sweep now: deletes what expired, hands it on; resolves with the records made. */
  sweep(): Promise<DynamoDBRecord[]>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  stop(): Promise<void>;
}

interface Pending {
  record: DynamoDBRecord;
  /** Invocations that failed on this record so far. */
  failures: number;
}

export function startTtlSweeper(options: TtlSweeperOptions): TtlSweeper {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const streamArn = `arn:aws:dynamodb:${options.region}:000000000000:table/${options.tableName}/stream/local`;
  let sequence = 0;
  let pending: Pending[] = [];
  let turn: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function deleteExpired(): Promise<DynamoDBRecord[]> {
    const nowSeconds = Math.floor(now() / 1000);
    // Expired as every reader sees it: `expiresAt > now` is alive (see the unread index).
    const expired = {
      ExpressionAttributeNames: { '#expiresAt': TABLE_KEYS.ttlAttribute },
      ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
    };
    const records: DynamoDBRecord[] = [];
    const pages = paginateScan(
      { client: options.client },
      { TableName: options.tableName, FilterExpression: '#expiresAt <= :now', ...expired },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const old = await deleteIfStillExpired(item, expired);
        if (old) records.push(ttlRemovalRecord(old));
      }
    }
    return records;
  }

  /** As DynamoDB's TTL checks again before it deletes: a row rewritten meanwhile stays. */
  async function deleteIfStillExpired(
    item: Record<string, AttributeValue>,
    expired: {
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, AttributeValue>;
    },
  ): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const { Attributes } = await options.client.send(
        new DeleteItemCommand({
          TableName: options.tableName,
          Key: keysOf(item),
          ConditionExpression: '#expiresAt <= :now',
          ReturnValues: 'ALL_OLD',
          ...expired,
        }),
      );
      return Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  function ttlRemovalRecord(oldImage: Record<string, AttributeValue>): DynamoDBRecord {
    sequence += 1;
    const sequenceNumber = String(sequence).padStart(21, '0');
    return {
      eventID: `local-${sequenceNumber}`,
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: options.region,
      userIdentity: { ...TTL_REMOVAL_IDENTITY },
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now() / 1000),
        Keys: keysOf(oldImage) as DynamoDBStreamImage,
        OldImage: oldImage as DynamoDBStreamImage,
        SequenceNumber: sequenceNumber,
        SizeBytes: Buffer.byteLength(JSON.stringify(oldImage)),
        StreamViewType: 'OLD_IMAGE',
      },
      eventSourceARN: streamArn,
    };
  }

  /**
   * Hands records on in batches as the event source does: a batch's reported failure is kept
   * from that record on for the next sweep, until the retries run out (AWS would then send
   * the batch's position to the failure queue; here it is logged).
   */
  async function deliver(): Promise<void> {
    const waiting = pending.filter(({ record }) => matchesPattern(TTL_REMOVAL_FILTER, record));
    pending = [];
    for (let start = 0; start < waiting.length; start += TTL_STREAM.batchSize) {
      const batch = waiting.slice(start, start + TTL_STREAM.batchSize);
      const failedFrom = await invoke(batch.map(({ record }) => record));
      if (failedFrom < 0) continue;
      const retry = waiting.slice(start + failedFrom).map((each) => ({
        ...each,
        failures: each.failures + 1,
      }));
      const dropped = retry.filter(({ failures }) => failures > TTL_STREAM.retryAttempts);
      if (dropped.length > 0) log(`ttl sweeper: gave up on ${dropped.length} records`);
      pending = retry.filter(({ failures }) => failures <= TTL_STREAM.retryAttempts);
      return;
    }
  }

  /** The index of the first record to retry, or -1 when the batch succeeded. */
  async function invoke(records: DynamoDBRecord[]): Promise<number> {
    try {
      const response = await options.handler({ Records: records });
      const failed = new Set(
        (response?.batchItemFailures ?? []).map(({ itemIdentifier }) => itemIdentifier),
      );
      return records.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? ''));
    } catch (error) {
      log(`ttl sweeper: handler failed: ${String(error)}`);
      return 0;
    }
  }

  async function sweep(): Promise<DynamoDBRecord[]> {
    const records = await deleteExpired();
    pending.push(...records.map((record) => ({ record, failures: 0 })));
    await deliver();
    return records;
  }

  /** One sweep after another, never two at once, whether the timer or a caller asks. */
  function sweepInTurn(): Promise<DynamoDBRecord[]> {
    const result = turn.then(sweep);
    turn = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      sweepInTurn()
        .catch((error: unknown) => log(`ttl sweeper: sweep failed: ${String(error)}`))
        .finally(schedule);
    }, options.intervalMs);
  }
  schedule();

  return {
    sweep: sweepInTurn,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await turn;
    },
  };
}

type DynamoDBStreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['OldImage']>;

function keysOf(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const keys: Record<string, AttributeValue> = {};
  for (const name of [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]) {
    const value = item[name];
    if (value !== undefined) keys[name] = value;
  }
  return keys;
}
