/**
 * The snooze due-listing and the wake-up's watermark over the notifications table (beside
 * the rows they point at): `Z#{minute}` / `{tenant}#{id}#{userId}` per snooze, read a
 * minute at a time with one consistent Query, and one `Z#watermark` item.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Page } from '#core/model';
import type { SnoozeEntry, SnoozeListing, SweepWatermark } from '#core/snooze-ports';
import { SNOOZE_WATERMARK_KEY, snoozeEntryKey, snoozePartition } from './dynamo-keys';
import { queryPartitionPage } from './dynamo-partition-page';

/** Entries read per page. */
const PAGE_SIZE = 100;
/**
 * Seconds an entry outlives its minute before DynamoDB's TTL removes it: only a leftover
 * (one the wake-up could not drop) is still there by then.
 */
export const ENTRY_GRACE_SECONDS = 30 * 24 * 3600;

export class DynamoSnoozeListing implements SnoozeListing {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(entry: SnoozeEntry, minute: number): Promise<void> {
    const { tenant, userId, id, until } = entry;
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...snoozeEntryKey(minute, entry),
          tenant,
          userId,
          id,
          until,
          expiresAt: minute * 60 + ENTRY_GRACE_SECONDS,
        },
      }),
    );
  }

  async dueIn(minute: number, cursor?: string): Promise<Page<SnoozeEntry>> {
    return queryPartitionPage(
      this.documentClient,
      this.tableName,
      snoozePartition(minute),
      // An entry written a moment ago must be found by the run that reads its minute.
      { cursor, skPrefix: '', limit: PAGE_SIZE, consistentRead: true },
      (item): SnoozeEntry | undefined =>
        typeof item.until === 'string'
          ? {
              tenant: String(item.tenant),
              userId: String(item.userId),
              id: String(item.id),
              until: item.until,
            }
          : undefined,
    );
  }

  async remove(entry: SnoozeEntry, minute: number): Promise<void> {
    await this.documentClient
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: snoozeEntryKey(minute, entry),
          // A snooze moved to the same minute wrote a newer `until` over this entry: keep it.
          ConditionExpression: 'attribute_not_exists(pk) OR #until = :until',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':until': entry.until },
        }),
      )
      .catch(ignoreConditionFailure);
  }
}

export class DynamoSweepWatermark implements SweepWatermark {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<number | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: SNOOZE_WATERMARK_KEY,
        ConsistentRead: true,
        ProjectionExpression: '#minute',
        ExpressionAttributeNames: { '#minute': 'minute' },
      }),
    );
    return typeof Item?.minute === 'number' ? Item.minute : undefined;
  }

  async advance(minute: number): Promise<void> {
    await this.documentClient
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SNOOZE_WATERMARK_KEY,
          UpdateExpression: 'SET #minute = :minute',
          ConditionExpression: 'attribute_not_exists(#minute) OR #minute < :minute',
          ExpressionAttributeNames: { '#minute': 'minute' },
          ExpressionAttributeValues: { ':minute': minute },
        }),
      )
      .catch(ignoreConditionFailure);
  }
}

function ignoreConditionFailure(error: unknown): void {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
}
