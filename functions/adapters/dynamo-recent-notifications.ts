/**
 * The user's STATE item (`U#{tenant}#{userId}` / `STATE`) as the fan-out writes it: the ids
 * of their recent notifications (`e_<tag>: <publish time>`), so that a redelivery of one
 * they have deleted since does not bring it back (its row is gone, so the row's conditional
 * Put alone would let it in). The unread count is not kept here: it is a COUNT over the
 * unread index (`dynamo-unread-index.ts`), so no write can leave it behind.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InboxRetry } from './dynamo-inbox-retry';
import { STATE_SK } from './dynamo-keys';

/** A user's notification recorded on their STATE item: `<tag>: <publish time>`. */
export interface RecentEvent {
  tag: string;
  publishedAt: number;
}

/** What claiming a notification found: it was new (and is now recorded), or known already. */
export type Claim = { kind: 'claimed'; recent: RecentEvent[] } | { kind: 'known' };

export class RecentNotifications {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retry: InboxRetry,
  ) {}

  /**
   * Records the notification among the user's recent ones in one conditional update: a
   * known one (stored before, and deleted since) fails it, at no request of its own.
   */
  async claim(pk: string, id: string, publishedAt: number): Promise<Claim> {
    const tag = eventTag(id);
    try {
      const { Attributes } = await this.retry.onConflict(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk, sk: STATE_SK },
            UpdateExpression: 'SET #event = :at',
            ConditionExpression: 'attribute_not_exists(#event)',
            ExpressionAttributeNames: { '#event': tag },
            ExpressionAttributeValues: { ':at': publishedAt },
            // Returned values cost no read units.
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { kind: 'claimed', recent: recentEvents(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { kind: 'known' };
      throw error;
    }
  }

  /** Forgets these recent notifications, so the STATE item stays one write unit. */
  async forget(pk: string, tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    const names = Object.fromEntries(tags.map((tag, i) => [`#e${i}`, tag]));
    await this.retry.onConflict(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: STATE_SK },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
        }),
      ),
    );
  }
}

const EVENT_TAG_PREFIX = 'e_';

/**
 * The attribute naming a notification id on the user's STATE item: 60 bits of its SHA-256,
 * short so that dozens fit in the item's first write unit.
 */
export function eventTag(id: string): string {
  return EVENT_TAG_PREFIX + createHash('sha256').update(id).digest('base64url').slice(0, 10);
}

function recentEvents(item: Record<string, unknown>): RecentEvent[] {
  return Object.entries(item).flatMap(([name, value]) =>
    name.startsWith(EVENT_TAG_PREFIX) && typeof value === 'number'
      ? [{ tag: name, publishedAt: value }]
      : [],
  );
}
