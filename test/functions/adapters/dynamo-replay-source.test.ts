import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { DynamoReplaySource } from '#adapters/dynamo-replay-source';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);
const T0 = Date.UTC(2029, 0, 1);

let local: DynamoLocal;
let inbox: DynamoFanOutInbox;
let source: DynamoReplaySource;

beforeAll(async () => {
  local = await startDynamoLocal();
  inbox = new DynamoFanOutInbox(local.doc, local.tables.notifications);
  source = new DynamoReplaySource(local.doc, local.tables.notifications);
});

afterAll(async () => {
  await local?.stop();
});

function user(userId: string, tenant = 'acme'): Recipient {
  return { kind: 'user', tenant, userId };
}

function note(second: number, eventId: string, extra: Partial<Notification> = {}): Notification {
  const publishedAt = T0 + second * 1000;
  return {
    id: notificationId(publishedAt, 'acme', eventId),
    eventId,
    type: 'comment.created',
    createdAt: new Date(publishedAt).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
    ...extra,
  };
}

/** Stores through the inbox, the writer replay reads after. */
async function store(recipient: Recipient, ...notifications: Notification[]): Promise<void> {
  for (const notification of notifications) {
    await inbox.store(recipient, notification, EXPIRES_AT);
  }
}

describe('after', () => {
  it("reads the recipient's notifications after the cursor, oldest first, as stored", async () => {
    const alice = user('alice-after');
    const full = note(4, 'e4', {
      title: 'New comment',
      body: 'Bob replied',
      data: { postId: 42, nested: { ok: true }, tags: ['a'] },
      url: 'https://app.example/posts/42',
    });
    const notes = [note(1, 'e1'), note(2, 'e2'), note(3, 'e3'), full];
    // Stored newest first: the order of writes must not matter.
    await store(alice, ...[...notes].reverse());
    await store(user('bob-after'), note(2.5, 'bob-1'));
    await store(user('alice-after', 'globex'), note(2.5, 'globex-1'));

    const found = await source.after(alice, notes[1]?.id as string, 10);
    expect(found.map((n) => n.notification.eventId)).toEqual(['e3', 'e4']);
    expect(found[1]?.notification).toEqual(full);
  });

  it('keeps to notifications: other kinds of the partition stay out', async () => {
    const alice = user('alice-kinds');
    const first = note(1, 'k1');
    await store(alice, first, note(2, 'k2'));
    // Another kind of item, sorting after N#.
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: { pk: 'U#acme#alice-kinds', sk: 'PREFS', channels: { inapp: true } },
      }),
    );
    expect((await source.after(alice, first.id, 10)).map((n) => n.notification.eventId)).toEqual([
      'k2',
    ]);
  });

  it('returns at most the limit, and the last id continues where it stopped', async () => {
    const alice = user('alice-limit');
    const notes = Array.from({ length: 7 }, (_, i) => note(i + 1, `l${i + 1}`));
    await store(alice, ...notes);
    const cursor = notes[0]?.id as string;
    const page1 = await source.after(alice, cursor, 3);
    expect(page1.map((n) => n.notification.eventId)).toEqual(['l2', 'l3', 'l4']);
    const page2 = await source.after(alice, page1.at(-1)?.notification.id as string, 3);
    expect(page2.map((n) => n.notification.eventId)).toEqual(['l5', 'l6', 'l7']);
    expect(await source.after(alice, page2.at(-1)?.notification.id as string, 3)).toEqual([]);
  });

  it('starts after a cursor that is not itself stored', async () => {
    const alice = user('alice-gap');
    await store(alice, note(1, 'g1'), note(3, 'g3'));
    const between = notificationId(T0 + 2000, 'acme', 'never');
    expect((await source.after(alice, between, 10)).map((n) => n.notification.eventId)).toEqual([
      'g3',
    ]);
  });

  it("reads a topic's history, with no read state", async () => {
    const topic: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.replay' };
    const first = note(1, 't1', { topic: 'project.replay' });
    await store(topic, first, note(2, 't2', { topic: 'project.replay' }));
    expect((await source.after(topic, first.id, 10)).map((n) => n.notification)).toEqual([
      note(2, 't2', { topic: 'project.replay' }),
    ]);
  });
});

describe('storedAt', () => {
  it("knows the recipient's own notifications, and nobody else's", async () => {
    const alice = user('alice-has');
    const topic: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.has' };
    const mine = note(1, 'h1');
    const broadcast = note(2, 'h2', { topic: 'project.has' });
    await store(alice, mine);
    await store(topic, broadcast);
    const has = async (recipient: Recipient, id: string) =>
      (await source.storedAt(recipient, id)) !== undefined;
    expect(await has(alice, mine.id)).toBe(true);
    expect(await has(topic, broadcast.id)).toBe(true);
    expect(await has(alice, broadcast.id)).toBe(false);
    expect(await has(user('bob-has'), mine.id)).toBe(false);
    expect(await has(user('alice-has', 'globex'), mine.id)).toBe(false);
  });

  it('counts a row filed before filing times were kept from its publish time', async () => {
    const alice = user('alice-old-row');
    const old = note(1, 'o1');
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: { pk: 'U#acme#alice-old-row', sk: `N#${old.id}`, ...old },
      }),
    );
    expect(await source.storedAt(alice, old.id)).toBe(T0 + 1000);
    expect((await source.after(alice, note(0, 'o0').id, 10)).map((n) => n.storedAt)).toEqual([
      T0 + 1000,
    ]);
  });

  it('replays no row past its expiry that the TTL has not removed yet', async () => {
    const alice = user('alice-expired');
    await store(alice, note(1, 'e1'), note(2, 'e2'));
    const later = new DynamoReplaySource(
      local.doc,
      local.tables.notifications,
      () => EXPIRES_AT * 1000,
    );
    expect(await later.after(alice, note(0, 'e0').id, 10)).toEqual([]);
    expect(await source.after(alice, note(0, 'e0').id, 10)).toHaveLength(2);
  });
});
