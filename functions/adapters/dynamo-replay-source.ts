/**
 * `ReplaySource` over the notifications table: the very items `DynamoFanOutInbox` stores
 * (`U#{tenant}#{userId}` or `T#{tenant}#{topic}` / `N#{id}`), read forwards. Ids sort by
 * time, so an ascending range of sort keys after `N#{since}` is "everything since", oldest
 * first, and the last id of one read is the cursor of the next. A deleted notification's
 * tombstone is none of them: not replayed, and not a cursor to resume from. A row past its
 * `expiresAt` that the TTL has not removed yet is not replayed either, as the list and the
 * badge no longer show it.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Recipient } from '#core/model';
import { notificationTime } from '#core/notification-id';
import type { ReplaySource, StoredNotification } from '#core/ports';
import { NOTIFICATION_PREFIX, notificationSortKey, recipientPartition } from './dynamo-keys';
import { fromItem, isTombstone, STORED_AT, TOMBSTONE_MARKER } from './dynamo-notification-items';
import { isShown } from './dynamo-unread-index';

/**
 * The upper end of the notification sort keys: ids are Crockford base32 (`0-9`, `A-Z`) and
 * `~` sorts after all of them. Other items of a partition may sort after `N#`
 * too, so "everything after the cursor" needs this bound to stay among notifications.
 */
const NOTIFICATIONS_END = `${NOTIFICATION_PREFIX}~`;

export class DynamoReplaySource implements ReplaySource {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async storedAt(recipient: Recipient, id: string): Promise<number | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: recipientPartition(recipient), sk: notificationSortKey(id) },
        ProjectionExpression: 'pk, id, #deleted, #storedAt',
        ExpressionAttributeNames: { '#deleted': TOMBSTONE_MARKER, '#storedAt': STORED_AT },
        // The id came from a push that followed the write: a stale read would be a false gap.
        ConsistentRead: true,
      }),
    );
    return Item === undefined || isTombstone(Item) ? undefined : filedAt(Item);
  }

  async after(recipient: Recipient, afterId: string, limit: number): Promise<StoredNotification[]> {
    const pk = recipientPartition(recipient);
    const from = notificationSortKey(afterId);
    const found: StoredNotification[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tableName,
          // BETWEEN is inclusive: the cursor's own item comes back and is skipped below.
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': NOTIFICATIONS_END },
          ScanIndexForward: true,
          ConsistentRead: true,
          Limit: limit - found.length + 1,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of Items) {
        // Tombstones and expired rows are skipped here, not filtered by the Query, so `Limit`
        // stays a bound on what one request reads; the loop reads on past them.
        if (item.sk === from || !isShown(item, this.now())) continue;
        found.push({ notification: fromItem(item), storedAt: filedAt(item) });
        if (found.length === limit) return found;
      }
      startKey = LastEvaluatedKey;
    } while (startKey !== undefined);
    return found;
  }
}

/** When the item was filed; one filed before the time was recorded counts from its id's time. */
function filedAt(item: Record<string, unknown>): number {
  const at = item[STORED_AT];
  return typeof at === 'number' ? at : (notificationTime(String(item.id)) ?? 0);
}
