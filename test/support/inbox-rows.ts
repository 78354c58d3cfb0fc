/**
 * For end-to-end tests of the inbox states: seeding a user's inbox fast (BatchWrite of
 * items made by the real item builder `toItem`, not thousands of publishes), and reading
 * the rows back from DynamoDB to check the counts against them.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '#adapters/dynamo-batch';
import { flagsOf, indexesOf, indexKeysOf } from '#adapters/dynamo-inbox-flags';
import { userPartition } from '#adapters/dynamo-keys';
import { notificationKey, toItem } from '#adapters/dynamo-notification-items';
import { INBOX_INDEX_LIST } from '#config/inbox-indexes';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';

let sequence = 0;

/** `count` notifications for `recipient`, one ms apart ending now, put in one BatchWrite run. */
export async function seedInbox(
  doc: DynamoDBDocumentClient,
  table: string,
  recipient: Extract<Recipient, { kind: 'user' }>,
  count: number,
  make: (i: number) => Partial<Notification> = () => ({}),
): Promise<Notification[]> {
  const start = Date.now() - count;
  const notes = Array.from({ length: count }, (_, i): Notification => {
    sequence += 1;
    const at = start + i;
    const eventId = `seed-${sequence}`;
    return {
      id: notificationId(at, recipient.tenant, eventId),
      eventId,
      type: 'comment.created',
      title: `#${i}`,
      createdAt: new Date(at).toISOString(),
      read: false,
      seen: false,
      archived: false,
      interacted: false,
      ...make(i),
    };
  });
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  await batchWriteAll(
    doc,
    table,
    notes.map((note) => ({
      PutRequest: {
        Item: { ...toItem(recipient, note), ...notificationKey(recipient, note.id), expiresAt },
      },
    })),
    (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  );
  return notes;
}

/** Every row (not tombstone) of the user's partition, read consistently. */
export async function rowsOf(
  doc: DynamoDBDocumentClient,
  table: string,
  recipient: Extract<Recipient, { kind: 'user' }>,
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
        ExpressionAttributeValues: {
          ':pk': userPartition(recipient.tenant, recipient.userId),
          ':n': 'N#',
        },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    rows.push(...(page.Items ?? []).filter((row) => row.deleted === undefined));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return rows;
}

/** The counts the rows imply, independent of any index. */
export function countsOfRows(rows: Record<string, unknown>[]): { unread: number; unseen: number } {
  const shown = rows.filter((row) => row.archived !== true && row.snoozedUntil === undefined);
  return {
    unread: shown.filter((row) => row.read !== true).length,
    unseen: shown.filter((row) => row.seen !== true).length,
  };
}

/** Rows whose index keys disagree with their flags (should be none). */
export function rowsWithWrongKeys(rows: Record<string, unknown>[]): string[] {
  return rows
    .filter((row) => {
      const expected = indexKeysOf(flagsOf(row), String(row.sk));
      return INBOX_INDEX_LIST.some((index) => row[index.sortKey] !== expected[index.sortKey]);
    })
    .map((row) => `${String(row.sk)} ${JSON.stringify(indexesOf(flagsOf(row)))}`);
}
