/**
 * An unread notification expiring end to end on the local stack: the count drops at its
 * `expiresAt`, and once the TTL deletes the row (the local sweeper standing in for
 * DynamoDB's TTL and its stream) every live socket of the user hears the lower count.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { notificationKey } from '#adapters/dynamo-notification-items';
import type { Recipient } from '#core/model';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

let e2e: E2e;
let doc: E2e['doc'];

beforeAll(async () => {
  // Short sweeps keep the test quick; it waits for outcomes, never for an interval.
  e2e = await startE2e({ ttlSweepIntervalMs: 250 });
  doc = e2e.doc;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

async function unreadCount(userId: string): Promise<unknown> {
  const response = await fetch(`${e2e.stack.urls.http}/notifications/unread-count`, {
    headers: { authorization: `Bearer ${await e2e.token(userId)}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { unread: unknown }).unread;
}

it('tells every live socket of the user the lower count when TTL removes an unread row', async () => {
  const userId = `expiry-${randomUUID()}`;
  const recipient: Recipient = { kind: 'user', tenant: 'default', userId };
  const table = e2e.stack.tables.notifications;
  const phone = await e2e.connect(userId);
  const laptop = await e2e.connect(userId);
  for (let i = 0; i < 3; i++) {
    await e2e.publish({
      id: `evt-${randomUUID()}`,
      type: 'comment.created',
      to: { users: [userId] },
    });
  }
  await eventually(() => {
    expect(phone.notifications()).toHaveLength(3);
    expect(laptop.notifications()).toHaveLength(3);
  });
  expect(await unreadCount(userId)).toBe(3);
  const heardBefore = { phone: phone.frames.length, laptop: laptop.frames.length };
  const expiring = String(phone.notifications()[0]?.id);

  // Its expiry passes, as DynamoDB's TTL would see it: the row stays until TTL deletes it.
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: notificationKey(recipient, expiring),
      UpdateExpression: 'SET expiresAt = :past',
      ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
    }),
  );

  const statesSince = (frames: Array<Record<string, unknown>>, from: number) =>
    frames.slice(from).filter((frame) => frame.type === 'state');
  await eventually(() => {
    expect(statesSince(phone.frames, heardBefore.phone)).toContainEqual({
      type: 'state',
      unread: 2,
      unseen: 2,
      state: { unread: 2, unseen: 2 },
    });
    expect(statesSince(laptop.frames, heardBefore.laptop)).toContainEqual({
      type: 'state',
      unread: 2,
      unseen: 2,
      state: { unread: 2, unseen: 2 },
    });
  }, 60_000);
  expect(await unreadCount(userId)).toBe(2);
  const { Item } = await doc.send(
    new GetCommand({
      TableName: table,
      Key: notificationKey(recipient, expiring),
      ConsistentRead: true,
    }),
  );
  expect(Item).toBeUndefined();
}, 120_000);
