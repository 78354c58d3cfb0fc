/**
 * One page of a partition's items under a sort-key prefix, with the opaque cursor that
 * continues it: what the minute listings (token expiry, snooze wake-up) read.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Page } from '#core/model';
import { decodeCursor, encodeCursor } from './dynamo-keys';

export interface PartitionPageOptions {
  cursor?: string;
  /** The sort-key prefix a client's cursor must stay within ('' for the whole partition). */
  skPrefix: string;
  limit: number;
  consistentRead?: boolean;
}

/** The page's items as `toItem` reads them; items it returns undefined for are left out. */
export async function queryPartitionPage<T>(
  documentClient: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: PartitionPageOptions,
  toItem: (item: Record<string, unknown>) => T | undefined,
): Promise<Page<T>> {
  const { Items = [], LastEvaluatedKey } = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ExclusiveStartKey: decodeCursor(options.cursor, { pk, skPrefix: options.skPrefix }),
      Limit: options.limit,
      ConsistentRead: options.consistentRead,
    }),
  );
  const items = Items.map(toItem).filter((item): item is T => item !== undefined);
  const next = encodeCursor(LastEvaluatedKey);
  return next === undefined ? { items } : { items, cursor: next };
}
