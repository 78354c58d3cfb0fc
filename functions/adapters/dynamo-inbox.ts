/**
 * `Inbox` over one DynamoDB table:
 * - user notification `U#{tenant}#{userId}` / `N#{id}`, with the user's `read` state
 * - user state `U#{tenant}#{userId}` / `STATE`: the unread count
 * - topic notification `T#{tenant}#{topic}` / `N#{id}`: a topic's history, no read state
 * Notification ids sort by time, so a partition read backwards is newest first.
 */
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../core/errors';
import type { Notification, Page, Recipient } from '../core/model';
import type { Inbox, StoreOutcome } from '../core/ports';
import {
  decodeCursor,
  encodeCursor,
  type ItemKey,
  NOTIFICATION_PREFIX,
  notificationSortKey,
  recipientPartition,
  STATE_SK,
  userPartition,
} from './dynamo-keys';

export class DynamoInbox implements Inbox {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async store(
    recipient: Recipient,
    notification: Notification,
    expiresAt: number,
  ): Promise<StoreOutcome> {
    const key = notificationKey(recipient, notification.id);
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...toItem(recipient, notification), ...key, expiresAt },
          // The write is the idempotency check: a duplicate costs no extra request.
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const undelivered =
        error.Item === undefined ? await this.readUndelivered(key) : undeliveredOf(error.Item);
      return undelivered.length > 0 ? { fresh: false, undelivered } : { fresh: false };
    }
    if (recipient.kind === 'user') {
      // A second plain write, not a transaction: a transaction would cost twice as much.
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: STATE_SK },
          UpdateExpression: 'ADD #unread :one',
          ExpressionAttributeNames: { '#unread': 'unread' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    }
    return { fresh: true };
  }

  async setUndelivered(
    recipient: Recipient,
    notificationId: string,
    connectionIds: string[],
  ): Promise<void> {
    const ids = [...new Set(connectionIds)];
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKey(recipient, notificationId),
          // An empty string set is not a DynamoDB value: "none" is the attribute's absence.
          UpdateExpression: ids.length > 0 ? 'SET #undelivered = :ids' : 'REMOVE #undelivered',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#undelivered': 'undelivered' },
          ExpressionAttributeValues: ids.length > 0 ? { ':ids': new Set(ids) } : undefined,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new NotFoundError('notification not found', { cause: error });
      }
      throw error;
    }
  }

  /** One page of the recipient's notifications, newest first. */
  async list(
    recipient: Recipient,
    page: { limit: number; cursor?: string },
  ): Promise<Page<Notification>> {
    const pk = recipientPartition(recipient);
    const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': NOTIFICATION_PREFIX },
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, { pk, skPrefix: NOTIFICATION_PREFIX }),
      }),
    );
    const items = Items.map(fromItem);
    const next = encodeCursor(LastEvaluatedKey);
    return next === undefined ? { items } : { items, cursor: next };
  }

  /** The user's unread count; 0 before anything was stored for them. */
  async unreadCount(tenant: string, userId: string): Promise<number> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: STATE_SK },
        ProjectionExpression: '#unread',
        ExpressionAttributeNames: { '#unread': 'unread' },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.unread === 'number' ? Item.unread : 0;
  }

  /** Only when the failed condition check did not return the old item. */
  private async readUndelivered(key: ItemKey): Promise<string[]> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ProjectionExpression: '#undelivered',
        ExpressionAttributeNames: { '#undelivered': 'undelivered' },
        ConsistentRead: true,
      }),
    );
    return Item?.undelivered instanceof Set ? [...Item.undelivered].map(String).sort() : [];
  }
}

function notificationKey(recipient: Recipient, id: string): ItemKey {
  return { pk: recipientPartition(recipient), sk: notificationSortKey(id) };
}

/**
 * The one mapping from a `Notification` to its item. A topic's history has no read
 * state, since it belongs to no single user.
 */
function toItem(recipient: Recipient, notification: Notification): Record<string, unknown> {
  const { id, eventId, type, title, body, data, url, topic, createdAt, read } = notification;
  const item: Record<string, unknown> = {
    id,
    eventId,
    type,
    title,
    body,
    data,
    url,
    topic,
    createdAt,
  };
  if (recipient.kind === 'user') item.read = read;
  return item;
}

/** The one mapping back: only the `Notification`'s own fields, never keys or bookkeeping. */
function fromItem(item: Record<string, unknown>): Notification {
  const notification: Notification = {
    id: String(item.id),
    eventId: String(item.eventId),
    type: String(item.type),
    createdAt: String(item.createdAt),
    read: item.read === true,
  };
  if (typeof item.title === 'string') notification.title = item.title;
  if (typeof item.body === 'string') notification.body = item.body;
  if (isObject(item.data)) notification.data = item.data;
  if (typeof item.url === 'string') notification.url = item.url;
  if (typeof item.topic === 'string') notification.topic = item.topic;
  return notification;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The document client does not unmarshall the item a failed condition returns
// (aws-sdk-js-v3#6723), so the string set arrives in its wire form.
function undeliveredOf(item: Record<string, AttributeValue>): string[] {
  return [...(item.undelivered?.SS ?? [])].sort();
}
