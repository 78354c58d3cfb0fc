import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { EventLedger } from '#core/ports';
import { epochSeconds, eventKey } from './dynamo-keys';

/**
 * Event items (`pk = E#<tenant>#<event id>`) in the notifications table, one per envelope,
 * whatever its audience: its first publish time, until `expiresAt` (the idempotency horizon).
 * DynamoDB's TTL removes expired items only eventually, so the condition itself treats an
 * expired record as absent: after the horizon the id is new, at once and in every stack.
 */
export class DynamoEventLedger implements EventLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async firstPublished(
    tenant: string,
    eventId: string,
    publishedAt: number,
    expiresAt: number,
  ): Promise<number> {
    const key = eventKey(tenant, eventId);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, publishedAt, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': epochSeconds(publishedAt) },
          // A known event costs this one request: the failed condition returns the item.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return publishedAt;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client leaves the exception's item marshalled.
      const old = error.Item ? unmarshall(error.Item) : await this.read(key);
      const first = Number(old?.publishedAt);
      return Number.isFinite(first) ? first : publishedAt;
    }
  }

  private async read(key: { pk: string; sk: string }) {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}
