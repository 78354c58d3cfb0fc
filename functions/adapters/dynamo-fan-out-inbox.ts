/**
 * `FanOutInbox` over the notifications table: files each new notification for its
 * recipient, once. A user's notification goes to `U#{tenant}#{userId}` / `N#{id}` (an
 * unread one is in the unread index with the same write, which is what counts it) and is
 * recorded among their recent ones (`dynamo-recent-notifications.ts`); a topic's goes to
 * `T#{tenant}#{topic}` / `N#{id}`, its history.
 * A re-published envelope comes with its first notification's id (the fan-out's event
 * ledger), so the conditional Put recognises it, however many notifications came between.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification, Recipient } from '#core/model';
import type { FanOutInbox, StoreOutcome } from '#core/ports';
import { InboxRetry, type InboxRetryOptions } from './dynamo-inbox-retry';
import { notificationSortKey, recipientPartition } from './dynamo-keys';
import { notificationKey, toItem } from './dynamo-notification-items';
import { type RecentEvent, RecentNotifications } from './dynamo-recent-notifications';

/**
 * Recent notification ids kept per user, so that a redelivery of one they deleted does not
 * bring it back: trimmed to the newest RECENT_EVENTS_KEPT once there are more than
 * RECENT_EVENTS_HIGH (one extra write per that many notifications). A stored notification
 * is recognised by its item, always; a deleted one while fewer than that many newer came.
 */
export const RECENT_EVENTS_KEPT = 16;
export const RECENT_EVENTS_HIGH = 32;

export class DynamoFanOutInbox implements FanOutInbox {
  private readonly retry: InboxRetry;
  private readonly recent: RecentNotifications;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: InboxRetryOptions = {},
  ) {
    this.retry = new InboxRetry(options);
    this.recent = new RecentNotifications(documentClient, tableName, this.retry);
  }

  async store(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<StoreOutcome> {
    // The write is the idempotency check for a redelivery: a duplicate costs no extra request.
    if (!(await this.putNew(recipient, notification, expiresAt))) return { fresh: false };
    // Nobody deletes from a topic's history, so it needs no record of what was there.
    if (recipient.kind === 'topic') return { fresh: true };
    const pk = recipientPartition(recipient);
    const publishedAt = Date.parse(notification.createdAt);
    const claim = await this.recent.claim(pk, notification.id, publishedAt);
    if (claim.kind === 'claimed') {
      if (claim.recent.length > RECENT_EVENTS_HIGH) {
        await this.recent.forget(pk, beyondKept(claim.recent));
      }
      return { fresh: true };
    }
    // The user had this notification and has deleted it since: this is a redelivery (or a
    // re-publish) of it. Take back the item just put, never counted.
    await this.discard(pk, notification.id);
    return { fresh: false };
  }

  /** Puts the notification unless its id is stored; whether it was not. */
  private async putNew(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<boolean> {
    const key = notificationKey(recipient, notification.id);
    try {
      await this.retry.onConflict(() =>
        this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...toItem(recipient, notification), ...key, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Takes back an item just put for a notification the user had deleted. */
  private async discard(pk: string, id: string): Promise<void> {
    await this.retry.onConflict(() =>
      this.documentClient.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: notificationSortKey(id) } }),
      ),
    );
  }
}

/** The tags of all but the newest RECENT_EVENTS_KEPT notifications, by publish time. */
function beyondKept(recent: RecentEvent[]): string[] {
  return [...recent]
    .sort((a, b) => b.publishedAt - a.publishedAt)
    .slice(RECENT_EVENTS_KEPT)
    .map((event) => event.tag);
}
