/**
 * The local stand-in for DynamoDB's TTL, on DynamoDB Local: it deletes what expired and
 * hands it on as AWS's TTL stream records, which the real inbox-expiry handler recognises.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TTL_REMOVAL_IDENTITY, TTL_STREAM } from '#config/ttl-removal';
import { makeHandler } from '#handlers/inbox-expiry';
import { type StreamHandler, startTtlSweeper, type TtlSweeper } from '#local/ttl-sweeper';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;
const sweepers: TtlSweeper[] = [];

beforeAll(async () => {
  local = await startDynamoLocal();
}, 120_000);

afterAll(async () => {
  for (const sweeper of sweepers) await sweeper.stop();
  await local?.stop();
});

/** A sweeper whose timer never fires during a test: sweeps happen when the test asks. */
function sweeper(handler: StreamHandler): TtlSweeper {
  const started = startTtlSweeper({
    client: local.client,
    tableName: local.tables.notifications,
    handler,
    intervalMs: 3_600_000,
    region: 'us-east-1',
  });
  sweepers.push(started);
  return started;
}

async function putNotification(userId: string, fields: Record<string, unknown>) {
  const item = {
    pk: `U#acme#${userId}`,
    sk: `N#${randomUUID()}`,
    read: false,
    title: 'Hello',
    ...fields,
  };
  await local.doc.send(new PutCommand({ TableName: local.tables.notifications, Item: item }));
  return item;
}

const exists = async (item: { pk: string; sk: string }) =>
  (
    await local.doc.send(
      new GetCommand({
        TableName: local.tables.notifications,
        Key: { pk: item.pk, sk: item.sk },
        ConsistentRead: true,
      }),
    )
  ).Item !== undefined;

it('deletes what expired and hands it on as the stream record of a TTL deletion', async () => {
  const userId = `u-${randomUUID()}`;
  const expired = await putNotification(userId, { expiresAt: 1 });
  const alive = await putNotification(userId, { expiresAt: 4_000_000_000 });
  const forever = await putNotification(userId, {});
  const events: DynamoDBStreamEvent[] = [];
  const announced: string[] = [];
  const expiry = makeHandler({
    inbox: {
      announceState: async (owner) => {
        announced.push(`${owner.tenant}/${owner.userId}`);
        return { unread: 0, unseen: 0 };
      },
    },
  });
  const ttl = sweeper((event) => {
    events.push(event);
    return expiry(event);
  });

  const records = await ttl.sweep();

  const mine = records.filter((record) => record.dynamodb?.Keys?.pk?.S === expired.pk);
  expect(mine).toHaveLength(1);
  const [record] = mine as [DynamoDBRecord];
  expect(record).toMatchObject({
    eventName: 'REMOVE',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    userIdentity: TTL_REMOVAL_IDENTITY,
    dynamodb: {
      Keys: { pk: { S: expired.pk }, sk: { S: expired.sk } },
      OldImage: {
        pk: { S: expired.pk },
        sk: { S: expired.sk },
        read: { BOOL: false },
        title: { S: 'Hello' },
        expiresAt: { N: '1' },
      },
      StreamViewType: 'OLD_IMAGE',
    },
  });
  expect(record.dynamodb?.SequenceNumber).toMatch(/^\d+$/);
  expect(events.flatMap((event) => event.Records)).toContainEqual(record);
  // The real handler takes it for a TTL deletion of an unread notification.
  expect(announced).toContain(`acme/${userId}`);
  expect(await exists(expired)).toBe(false);
  expect(await exists(alive)).toBe(true);
  expect(await exists(forever)).toBe(true);
});

it('hands a batch the handler failed on again from the failed record, then no more', async () => {
  const userId = `u-${randomUUID()}`;
  await putNotification(userId, { expiresAt: 1 });
  const seen: string[][] = [];
  let failing = true;
  // Fails every record once, then succeeds.
  const handled = sweeper(async ({ Records }) => {
    seen.push(Records.map((record) => record.dynamodb?.Keys?.pk?.S ?? ''));
    if (!failing) return { batchItemFailures: [] };
    failing = false;
    return {
      batchItemFailures: Records.map((record) => ({
        itemIdentifier: record.dynamodb?.SequenceNumber ?? '',
      })),
    };
  });

  await handled.sweep();
  await handled.sweep();
  await handled.sweep();

  const mine = seen.map((batch) => batch.filter((pk) => pk === `U#acme#${userId}`).length);
  expect(mine).toEqual([1, 1]);
});

it('gives up on a record once the retries run out, as the event source does', async () => {
  const userId = `u-${randomUUID()}`;
  await putNotification(userId, { expiresAt: 1 });
  let invocations = 0;
  const failing = sweeper(async () => {
    invocations += 1;
    throw new Error('count unavailable');
  });

  for (let i = 0; i < TTL_STREAM.retryAttempts + 3; i++) await failing.sweep();

  // The first try and every retry, then none.
  expect(invocations).toBe(TTL_STREAM.retryAttempts + 1);
});
