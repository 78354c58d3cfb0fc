/**
 * The unread badge end to end on the local stack: rows removed or written behind Herald's
 * back (as DynamoDB's TTL deletes, as a store that died after its Put leaves), and still the
 * count, the list and read-all agree, and read-all reaches 0.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { createDocumentClient } from '#adapters/aws-clients';
import { notificationKey, toItem } from '#adapters/dynamo-notification-items';
import type { Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

let e2e: E2e;
let doc: ReturnType<typeof createDocumentClient>;

beforeAll(async () => {
  e2e = await startE2e();
  doc = e2e.doc;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

async function get(userId: string, path: string, method = 'GET') {
  const response = await fetch(`${e2e.stack.urls.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${await e2e.token(userId)}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const unread = async (userId: string) => (await get(userId, '/notifications/unread-count')).unread;
const listed = async (userId: string) =>
  ((await get(userId, '/notifications?limit=100')).items as Array<{ id: string; read: boolean }>)
    .filter((item) => !item.read)
    .map((item) => item.id);

it('keeps count, list and read-all in agreement when rows go or come behind Herald’s back', async () => {
  const userId = `badge-${randomUUID()}`;
  const recipient: Recipient = { kind: 'user', tenant: 'default', userId };
  const table = e2e.stack.tables.notifications;
  for (let i = 0; i < 4; i++) {
    await e2e.publish({
      id: `evt-${randomUUID()}`,
      type: 'comment.created',
      to: { users: [userId] },
    });
  }
  await eventually(async () => expect(await listed(userId)).toHaveLength(4));
  const [deleted, expired] = await listed(userId);

  // As DynamoDB's TTL deletes: no read-state change comes with it.
  await doc.send(
    new DeleteCommand({ TableName: table, Key: notificationKey(recipient, deleted ?? '') }),
  );
  // A row whose TTL has passed but which DynamoDB has not deleted yet.
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: notificationKey(recipient, expired ?? ''),
      UpdateExpression: 'SET expiresAt = :past',
      ExpressionAttributeValues: { ':past': 1 },
    }),
  );
  // A store that died after its Put, before anything else it meant to write.
  const at = Date.now();
  const eventId = `evt-${randomUUID()}`;
  const orphan = {
    id: notificationId(at, 'default', eventId),
    eventId,
    type: 'comment.created',
    createdAt: new Date(at).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        ...toItem(recipient, orphan),
        ...notificationKey(recipient, orphan.id),
        expiresAt: Math.floor(at / 1000) + 3600,
      },
    }),
  );

  const left = await listed(userId);
  expect(left).toHaveLength(3);
  expect(left).toContain(orphan.id);
  expect(await unread(userId)).toBe(3);
  expect(await get(userId, '/notifications/read-all', 'POST')).toEqual({ unread: 0, unseen: 3 });
  expect(await unread(userId)).toBe(0);
  expect(await listed(userId)).toEqual([]);
}, 60_000);
