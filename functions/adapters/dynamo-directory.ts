import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Directory, MailLog } from '#core/ports';
import { epochSeconds, userPartition } from './dynamo-keys';

const PROFILE_SK = 'PROFILE';
const MAIL_PREFIX = 'MAIL#';
/** A mail record only has to outlive SQS's longest retention of the message behind it. */
const MAIL_LOG_SECONDS = 14 * 24 * 3600;

/** User profile items (`sk = PROFILE`) in the notifications table. */
export class DynamoDirectory implements Directory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async rememberEmail(tenant: string, userId: string, email: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: PROFILE_SK },
        UpdateExpression: 'SET email = :email, updatedAt = :now',
        ExpressionAttributeValues: { ':email': email, ':now': this.now() },
      }),
    );
  }

  async emailOf(tenant: string, userId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: PROFILE_SK },
        ProjectionExpression: 'email',
      }),
    );
    return typeof Item?.email === 'string' ? Item.email : undefined;
  }
}

/** Mail records (`sk = MAIL#<notification id>`) in the notifications table. */
export class DynamoMailLog implements MailLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async wasSent(tenant: string, userId: string, notificationId: string): Promise<boolean> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPartition(tenant, userId), sk: `${MAIL_PREFIX}${notificationId}` },
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async recordSent(tenant: string, userId: string, notificationId: string): Promise<void> {
    const now = this.now();
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: userPartition(tenant, userId),
          sk: `${MAIL_PREFIX}${notificationId}`,
          sentAt: now,
          expiresAt: epochSeconds(now) + MAIL_LOG_SECONDS,
        },
      }),
    );
  }
}
