/**
 * `FrameBudget` on the connection entry: a token bucket kept as GCRA's one number, the
 * theoretical arrival time `tat` (ms) of the next frame, so every check is a conditional
 * UpdateItem and no container holds state. An idle connection takes one write per frame;
 * a burst two; a refused frame three (the last counts the refusal).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FrameBudget, FrameRule, FrameVerdict } from '#core/ports';
import { connectionEntryKey } from './dynamo-keys';

const NAMES = { '#tat': 'frameTat' };

export class DynamoFrameBudget implements FrameBudget {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(connectionId: string, rule: FrameRule, nowMs: number): Promise<FrameVerdict> {
    const interval = 1000 / rule.perSecond;
    const key = connectionEntryKey(connectionId);
    // The bucket is full (the next frame was due by now): start from now.
    const idle = await this.update({
      Key: key,
      UpdateExpression: 'SET #tat = :next',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#tat) OR #tat <= :now)',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':now': nowMs, ':next': nowMs + interval },
    });
    if (idle !== undefined) return { admitted: true };
    // Within the burst: `burst` frames at once leave `tat` at most burst intervals ahead.
    const burst = await this.update({
      Key: key,
      UpdateExpression: 'SET #tat = #tat + :interval',
      ConditionExpression: 'attribute_exists(pk) AND #tat <= :limit',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: {
        ':interval': interval,
        ':limit': nowMs + (rule.burst - 1) * interval,
      },
    });
    if (burst !== undefined) return { admitted: true };
    const refused = await this.update({
      Key: key,
      UpdateExpression: 'ADD #refusals :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#refusals': 'frameRefusals' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    });
    // No connection entry (removed, or never recorded): the action answers for itself.
    if (refused === undefined) return { admitted: true };
    return { admitted: false, refusals: Number(refused.frameRefusals ?? 1) };
  }

  /** The update's returned attributes, or undefined when its condition failed. */
  private async update(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const { Attributes } = await this.documentClient.send(
        new UpdateCommand({ TableName: this.tableName, ...input }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
