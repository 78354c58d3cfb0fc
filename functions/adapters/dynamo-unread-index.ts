/**
 * A user's unread notifications, read from the table's sparse unread index (see
 * `functions/config/unread-index.ts`): how many there are, and which. Both read strongly
 * consistent and skip rows whose TTL has passed, which DynamoDB may take days to delete:
 * from its `expiresAt` on, a notification is gone for every reader, counted or listed.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '#config/topology';
import { UNREAD_INDEX } from '#config/unread-index';
import { epochSeconds, NOTIFICATION_PREFIX } from './dynamo-keys';
import { isTombstone, TOMBSTONE_MARKER } from './dynamo-notification-items';

/** Index entries one Query of unread ids reads (keys only, so a page is a few read units). */
export const UNREAD_PAGE = 200;

/** Where a read of the unread index stopped: the index's own key, opaque to callers. */
export type UnreadIndexKey = Record<string, unknown>;

/** The condition "this row has not expired", over `#expiresAt` and `:now` (epoch s). */
export const LIVE_CONDITION = '(attribute_not_exists(#expiresAt) OR #expiresAt > :now)';

/** Whether a row read back is still alive at `nowMs`: the reading twin of `LIVE_CONDITION`. */
export function isLive(item: Record<string, unknown>, nowMs: number): boolean {
  return typeof item.expiresAt !== 'number' || item.expiresAt > epochSeconds(nowMs);
}

/**
 * The condition "this row is the owner's to see": alive, and not the tombstone of one they
 * deleted; over `#expiresAt`, `#deleted` (see `SHOWN_NAMES`) and `:now`. The unread index
 * needs only `LIVE_CONDITION`: a tombstone is never in it.
 */
export const SHOWN_CONDITION = `${LIVE_CONDITION} AND attribute_not_exists(#deleted)`;

/** The attribute names `SHOWN_CONDITION` uses. */
export const SHOWN_NAMES = {
  '#expiresAt': TABLE_KEYS.ttlAttribute,
  '#deleted': TOMBSTONE_MARKER,
} as const;

/** Whether a row read back is the owner's to see at `nowMs`: the twin of `SHOWN_CONDITION`. */
export function isShown(item: Record<string, unknown>, nowMs: number): boolean {
  return isLive(item, nowMs) && !isTombstone(item);
}

export class UnreadIndex {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** How many unread, unexpired notifications the partition holds; 0 when none. */
  async count(pk: string, nowMs: number): Promise<number> {
    let count = 0;
    let start: UnreadIndexKey | undefined;
    do {
      const page = await this.documentClient.send(
        new QueryCommand({ ...this.query(pk, nowMs), Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  }

  /** Ids of unread, unexpired notifications from `start` on, newest first, one page. */
  async ids(
    pk: string,
    nowMs: number,
    start?: UnreadIndexKey,
  ): Promise<{ ids: string[]; next?: UnreadIndexKey }> {
    const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
      new QueryCommand({
        ...this.query(pk, nowMs),
        ProjectionExpression: 'sk',
        ScanIndexForward: false,
        Limit: UNREAD_PAGE,
        ExclusiveStartKey: start,
      }),
    );
    const ids = Items.map((item) => String(item.sk).slice(NOTIFICATION_PREFIX.length));
    return LastEvaluatedKey === undefined ? { ids } : { ids, next: LastEvaluatedKey };
  }

  private query(pk: string, nowMs: number) {
    return {
      TableName: this.tableName,
      IndexName: UNREAD_INDEX.name,
      KeyConditionExpression: 'pk = :pk',
      // The index projects `expiresAt`, so this filter reads nothing from the table.
      FilterExpression: LIVE_CONDITION,
      ExpressionAttributeNames: { '#expiresAt': TABLE_KEYS.ttlAttribute },
      ExpressionAttributeValues: { ':pk': pk, ':now': epochSeconds(nowMs) },
      ConsistentRead: true,
    };
  }
}
