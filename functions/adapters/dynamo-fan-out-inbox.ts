/**
 * `FanOutInbox` over the notifications table: files each new notification for its
 * recipient, once, in one conditional Put. A user's notification goes to
 * `U#{tenant}#{userId}` / `N#{id}` (an unread one is in the unread index with the same
 * write, which is what counts it); a topic's goes to `T#{tenant}#{topic}` / `N#{id}`, its
 * history. A re-published envelope comes with its first notification's id (the fan-out's
 * event ledger), so the Put recognises it, however many notifications came between; one
 * the user deleted since finds its tombstone at that key (`dynamo-notification-items.ts`),
 * so it does not come back either.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification, Recipient } from '#core/model';
import type { FanOutInbox, StoreOutcome } from '#core/ports';
import { InboxRetry, type InboxRetryOptions } from './dynamo-inbox-retry';
import { notificationKey, STORED_AT, toItem } from './dynamo-notification-items';

export class DynamoFanOutInbox implements FanOutInbox {
  private readonly retry: InboxRetry;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: InboxRetryOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.retry = new InboxRetry(options);
  }

  /** Puts the notification unless its key is taken (by the row, or by its tombstone). */
  async store(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<StoreOutcome> {
    // The write is the idempotency check for a redelivery: a duplicate costs no extra request.
    try {
      await this.retry.onConflict(() =>
        this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...toItem(recipient, notification),
              ...notificationKey(recipient, notification.id),
              expiresAt,
              [STORED_AT]: this.now(),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return { fresh: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { fresh: false };
      throw error;
    }
  }
}
