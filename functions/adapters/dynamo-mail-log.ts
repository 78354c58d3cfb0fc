import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { MailClaim, MailLease, MailLog } from '#core/ports';
import { userPartition } from './dynamo-keys';

const MAIL_PREFIX = 'MAIL#';

/**
 * Mail records (`sk = MAIL#<notification id>`) in the notifications table: `claimant` and
 * `leaseUntil` (ms) while a sender holds the claim, `sentAt` (ms) once mailed, and
 * `expiresAt` (epoch s, TTL) at the end of the idempotency horizon. A record from before
 * claims (only `sentAt`) reads as sent.
 */
export class DynamoMailLog implements MailLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(
    tenant: string,
    userId: string,
    notificationId: string,
    lease: MailLease,
  ): Promise<MailClaim> {
    const key = mailKey(tenant, userId, notificationId);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            claimant: lease.claimant,
            leaseUntil: lease.leaseUntil,
            expiresAt: lease.expiresAt,
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR (attribute_not_exists(sentAt) AND leaseUntil <= :now)',
          ExpressionAttributeValues: { ':now': lease.now },
          // A refused claim costs this one request: the failed condition returns the record.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client leaves the exception's item marshalled.
      const old = error.Item ? unmarshall(error.Item) : await this.read(key);
      // Gone meanwhile (released): someone is between claims; leave it to them this time.
      return old?.sentAt !== undefined ? 'sent' : 'held';
    }
  }

  async markSent(
    tenant: string,
    userId: string,
    notificationId: string,
    claimant: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: mailKey(tenant, userId, notificationId),
          UpdateExpression: 'SET sentAt = :now REMOVE leaseUntil',
          ConditionExpression: 'claimant = :claimant',
          ExpressionAttributeValues: { ':now': this.now(), ':claimant': claimant },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(
    tenant: string,
    userId: string,
    notificationId: string,
    claimant: string,
  ): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: mailKey(tenant, userId, notificationId),
          ConditionExpression: 'claimant = :claimant AND attribute_not_exists(sentAt)',
          ExpressionAttributeValues: { ':claimant': claimant },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async read(key: { pk: string; sk: string }) {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}

function mailKey(tenant: string, userId: string, notificationId: string) {
  return { pk: userPartition(tenant, userId), sk: `${MAIL_PREFIX}${notificationId}` };
}
