import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoInbox,
  NOTIFICATIONS_PER_TRANSACTION,
  RECENT_EVENTS_HIGH,
  RECENT_EVENTS_KEPT,
} from '#adapters/dynamo-inbox';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);
const BASE_TIME = Date.UTC(2029, 0, 1);

let local: DynamoLocal;
let inbox: DynamoInbox;
let sequence = 0;

beforeAll(async () => {
  local = await startDynamoLocal();
  inbox = new DynamoInbox(local.doc, local.tables.notifications);
});

afterAll(async () => {
  await local?.stop();
});

function user(userId: string, tenant = 'acme'): Recipient {
  return { kind: 'user', tenant, userId };
}

/** Real notification ids, one second apart, so they sort by creation as Herald's do. */
function notification(overrides: Partial<Notification> = {}): Notification {
  sequence += 1;
  return {
    id: notificationId(BASE_TIME + sequence * 1000, 'acme', `evt-${sequence}`),
    eventId: `evt-${sequence}`,
    type: 'comment.created',
    title: 'New comment',
    body: 'Bob replied to your post',
    data: { postId: 42, tags: ['a'], nested: { ok: true } },
    url: 'https://app.example/posts/42',
    createdAt: new Date(BASE_TIME + sequence * 1000).toISOString(),
    read: false,
    ...overrides,
  };
}

async function storeMany(recipient: Recipient, count: number): Promise<Notification[]> {
  const notes = Array.from({ length: count }, () => notification());
  for (let i = 0; i < notes.length; i += 25) {
    await Promise.all(notes.slice(i, i + 25).map((note) => inbox.store(recipient, note, 1)));
  }
  return notes;
}

async function rawItem(pk: string, sk: string) {
  const { Item } = await local.doc.send(
    new GetCommand({
      TableName: local.tables.notifications,
      Key: { pk, sk },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** Every notification item of a user, with its read flag, straight from the table. */
async function storedFlags(tenant: string, userId: string): Promise<boolean[]> {
  const flags: boolean[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await local.doc.send(
      new QueryCommand({
        TableName: local.tables.notifications,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
        ExpressionAttributeValues: { ':pk': `U#${tenant}#${userId}`, ':n': 'N#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    flags.push(...(page.Items ?? []).map((item) => item.read === true));
    start = page.LastEvaluatedKey;
  } while (start);
  return flags;
}

async function unreadStored(tenant: string, userId: string): Promise<number> {
  return (await storedFlags(tenant, userId)).filter((read) => !read).length;
}

describe('store', () => {
  it('stores once: a duplicate is not fresh and does not count as unread again', async () => {
    const alice = user('alice-dup');
    const note = notification();

    expect(await inbox.store(alice, note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(alice, { ...note, title: 'changed' }, EXPIRES_AT)).toEqual({
      fresh: false,
    });

    expect(await inbox.unreadCount('acme', 'alice-dup')).toBe(1);
    const item = await rawItem('U#acme#alice-dup', `N#${note.id}`);
    expect(item).toMatchObject({ title: 'New comment', expiresAt: EXPIRES_AT, read: false });
    expect(item).not.toHaveProperty('undelivered');
  });

  it('keeps a topic history without read state or an unread count', async () => {
    const topic: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.42' };
    const note = notification({ topic: 'project.42' });

    expect(await inbox.store(topic, note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(topic, note, EXPIRES_AT)).toEqual({ fresh: false });

    const item = await rawItem('T#acme#project.42', `N#${note.id}`);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('read');
    expect(await rawItem('T#acme#project.42', 'STATE')).toBeUndefined();
    expect((await inbox.list(topic, { limit: 10 })).items).toEqual([note]);
  });

  it('keeps the same notification id apart for different users and tenants', async () => {
    const note = notification();

    expect(await inbox.store(user('carol'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(user('dave'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(user('carol', 'globex'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.unreadCount('globex', 'carol')).toBe(1);
  });
});

/**
 * An item's size as DynamoDB bills it (names plus values; a number takes one byte per two
 * significant digits plus one), for the flat string and number items of the STATE row.
 */
function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((size, [name, value]) => {
    const valueSize =
      typeof value === 'number'
        ? Math.ceil(String(Math.abs(value)).replace(/^0+|\.|0+$/g, '').length / 2) + 1
        : Buffer.byteLength(String(value));
    return size + Buffer.byteLength(name) + valueSize;
  }, 0);
}

/** The same event published again `laterMs` after `note`: a new id, the same event id. */
function republished(note: Notification, laterMs = 60_000): Notification {
  const at = Date.parse(note.createdAt) + laterMs;
  return {
    ...note,
    id: notificationId(at, 'acme', note.eventId),
    createdAt: new Date(at).toISOString(),
  };
}

describe('store: a publisher re-publishing an event id', () => {
  it('keeps the first notification, counts it once, and answers with it', async () => {
    const erin = user('erin-republish');
    const note = notification();
    await inbox.store(erin, note, EXPIRES_AT);

    const again = await inbox.store(erin, republished(note), EXPIRES_AT);

    expect(again).toEqual({ fresh: false, notification: note });
    expect((await inbox.list(erin, { limit: 10 })).items.map((each) => each.id)).toEqual([note.id]);
    expect(await inbox.unreadCount('acme', 'erin-republish')).toBe(1);
  });

  it('does not bring back a notification the user deleted when it is delivered again', async () => {
    const fay = user('fay-deleted');
    const note = notification();
    await inbox.store(fay, note, EXPIRES_AT);
    await inbox.remove('acme', 'fay-deleted', note.id);

    expect(await inbox.store(fay, note, EXPIRES_AT)).toEqual({ fresh: false });
    expect((await inbox.store(fay, republished(note), EXPIRES_AT)).fresh).toBe(false);

    expect((await inbox.list(fay, { limit: 10 })).items).toEqual([]);
    expect(await inbox.unreadCount('acme', 'fay-deleted')).toBe(0);
  });

  it('takes back the re-put item with its count also when the user read it meanwhile', async () => {
    const gil = user('gil-race');
    const note = notification();
    await inbox.store(gil, note, EXPIRES_AT);
    await inbox.remove('acme', 'gil-race', note.id);
    // A redelivery whose Put lands, then the user marks it read before its claim fails.
    const racing = Object.create(local.doc) as typeof local.doc;
    racing.send = (async (command: unknown) => {
      const result = await local.doc.send(command as never);
      if (command instanceof PutCommand) await inbox.markRead('acme', 'gil-race', [note.id]);
      return result;
    }) as typeof local.doc.send;
    const other = notification();
    await inbox.store(gil, other, EXPIRES_AT);

    await new DynamoInbox(racing, local.tables.notifications).store(gil, note, EXPIRES_AT);

    expect((await inbox.list(gil, { limit: 10 })).items.map((each) => each.id)).toEqual([other.id]);
    expect(await inbox.unreadCount('acme', 'gil-race')).toBe(1);
  });

  it('keeps the user state within one write unit, still knowing the latest events', async () => {
    const halId = `hal-${'x'.repeat(200)}`;
    const hal = user(halId);
    const notes = Array.from({ length: 3 * RECENT_EVENTS_HIGH }, () => {
      const note = notification();
      const eventId = `evt-${'y'.repeat(100)}-${sequence}`;
      const id = notificationId(Date.parse(note.createdAt), 'acme', eventId);
      return { ...note, eventId, id };
    });
    for (const note of notes) await inbox.store(hal, note, EXPIRES_AT);

    const state = await rawItem(`U#acme#${halId}`, 'STATE');
    expect(itemSize(state ?? {})).toBeLessThan(1024 - itemSize({ e_0123456789: Date.now() }));
    for (const note of notes.slice(-RECENT_EVENTS_KEPT)) {
      expect((await inbox.store(hal, republished(note), EXPIRES_AT)).notification?.id).toBe(
        note.id,
      );
    }
    expect(await inbox.unreadCount('acme', halId)).toBe(notes.length);
    expect((await inbox.list(hal, { limit: 200 })).items).toHaveLength(notes.length);
  });
});

describe('list', () => {
  it('pages newest first with a cursor, returning only the notification fields', async () => {
    const frank = user('frank');
    const notes = [
      notification(),
      notification({ title: undefined, body: undefined, data: undefined, url: undefined }),
      notification(),
      notification({ topic: 'project.7' }),
      notification(),
    ];
    // Stored out of order: the id, not the write order, decides.
    for (const note of [notes[2], notes[0], notes[4], notes[1], notes[3]]) {
      if (note) await inbox.store(frank, note, EXPIRES_AT);
    }

    const first = await inbox.list(frank, { limit: 2 });
    const second = await inbox.list(frank, { limit: 2, cursor: first.cursor });
    const third = await inbox.list(frank, { limit: 2, cursor: second.cursor });

    expect(first.items).toEqual([notes[4], notes[3]]);
    expect(second.items).toEqual([notes[2], notes[1]]);
    expect(third.items).toEqual([notes[0]]);
    expect(third.cursor).toBeUndefined();
    expect(Object.keys(first.items[0] ?? {})).not.toContain('expiresAt');
    expect(Object.keys(second.items[1] ?? {}).sort()).toEqual([
      'createdAt',
      'eventId',
      'id',
      'read',
      'type',
    ]);
  });

  it('neither skips nor repeats while newer notifications arrive between pages', async () => {
    const gina = user('gina');
    const before = await storeMany(gina, 7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await inbox.list(gina, { limit: 2, cursor });
      seen.push(...page.items.map((item) => item.id));
      // A newer one lands between every two pages.
      await inbox.store(gina, notification(), EXPIRES_AT);
      cursor = page.cursor;
    } while (cursor);

    expect(seen).toEqual(before.map((note) => note.id).reverse());
  });

  it('lists only unread notifications when asked, with a cursor across filtered pages', async () => {
    const hank = user('hank');
    const notes = await storeMany(hank, 9);
    const readIds = notes.filter((_, i) => i % 3 !== 0).map((note) => note.id);
    await inbox.markRead('acme', 'hank', readIds);
    const unreadIds = notes
      .filter((_, i) => i % 3 === 0)
      .map((note) => note.id)
      .reverse();

    const first = await inbox.list(hank, { limit: 2, unreadOnly: true });
    const second = await inbox.list(hank, { limit: 2, unreadOnly: true, cursor: first.cursor });

    expect(first.items.map((item) => item.id)).toEqual(unreadIds.slice(0, 2));
    expect(first.items.every((item) => !item.read)).toBe(true);
    expect(first.cursor).toBeDefined();
    expect(second.items.map((item) => item.id)).toEqual(unreadIds.slice(2));
    expect(second.cursor).toBeUndefined();
    expect((await inbox.list(hank, { limit: 100 })).items).toHaveLength(9);
  });

  it('never lists another user’s notifications', async () => {
    await inbox.store(user('grace'), notification(), EXPIRES_AT);

    expect(await inbox.list(user('heidi'), { limit: 10 })).toEqual({ items: [] });
    expect(await inbox.list(user('grace', 'globex'), { limit: 10 })).toEqual({ items: [] });
  });

  it('does not count the state item as a notification', async () => {
    const ivan = user('ivan');
    await inbox.store(ivan, notification(), EXPIRES_AT);

    const page = await inbox.list(ivan, { limit: 10 });
    expect(page.items).toHaveLength(1);
    const state = await rawItem('U#acme#ivan', 'STATE');
    expect(state).toMatchObject({ pk: 'U#acme#ivan', sk: 'STATE', unread: 1 });
  });
});

describe('get', () => {
  it('finds the caller’s own notification only', async () => {
    const note = notification();
    await inbox.store(user('ken'), note, EXPIRES_AT);

    expect(await inbox.get('acme', 'ken', note.id)).toEqual(note);
    expect(await inbox.get('acme', 'mallory', note.id)).toBeUndefined();
    expect(await inbox.get('globex', 'ken', note.id)).toBeUndefined();
  });
});

describe('unreadCount', () => {
  it('is 0 for a user who never got anything, and counts each fresh store', async () => {
    expect(await inbox.unreadCount('acme', 'judy')).toBe(0);

    await inbox.store(user('judy'), notification(), EXPIRES_AT);
    await inbox.store(user('judy'), notification(), EXPIRES_AT);

    expect(await inbox.unreadCount('acme', 'judy')).toBe(2);
  });
});

describe('read state', () => {
  it('marks read and unread, moving the count with the flag and only when it flips', async () => {
    const [a, b] = await storeMany(user('liam'), 2);
    if (!a || !b) throw new Error('stored nothing');

    expect(await inbox.markRead('acme', 'liam', [a.id, a.id])).toEqual({
      missing: [],
      unreadDelta: -1,
    });
    expect(await inbox.markRead('acme', 'liam', [a.id])).toEqual({ missing: [], unreadDelta: 0 });
    expect(await inbox.unreadCount('acme', 'liam')).toBe(1);
    expect((await inbox.get('acme', 'liam', a.id))?.read).toBe(true);

    expect(await inbox.markUnread('acme', 'liam', a.id)).toEqual({ missing: [], unreadDelta: 1 });
    expect(await inbox.markUnread('acme', 'liam', a.id)).toEqual({ missing: [], unreadDelta: 0 });
    expect(await inbox.unreadCount('acme', 'liam')).toBe(2);
  });

  it('reports ids that are not the caller’s as missing and leaves the owner’s items alone', async () => {
    const [mine] = await storeMany(user('mia'), 1);
    if (!mine) throw new Error('stored nothing');
    const ghost = notification().id;

    expect(await inbox.markRead('acme', 'mallory', [mine.id, ghost])).toEqual({
      missing: [mine.id, ghost],
      unreadDelta: 0,
    });
    expect(await inbox.markRead('globex', 'mia', [mine.id])).toEqual({
      missing: [mine.id],
      unreadDelta: 0,
    });
    expect(await inbox.markUnread('acme', 'mallory', mine.id)).toEqual({
      missing: [mine.id],
      unreadDelta: 0,
    });
    expect(await inbox.remove('acme', 'mallory', mine.id)).toEqual({
      missing: [mine.id],
      unreadDelta: 0,
    });

    expect(await inbox.get('acme', 'mia', mine.id)).toMatchObject({ read: false });
    expect(await inbox.unreadCount('acme', 'mia')).toBe(1);
    // Nothing was created for the would-be intruder either.
    expect(await rawItem('U#acme#mallory', `N#${mine.id}`)).toBeUndefined();
    expect(await rawItem('U#acme#mallory', 'STATE')).toBeUndefined();
  });

  it('marks more than one transaction’s worth in chunks', async () => {
    const count = NOTIFICATIONS_PER_TRANSACTION + 21;
    const notes = await storeMany(user('nina'), count);

    const change = await inbox.markRead(
      'acme',
      'nina',
      notes.map((note) => note.id),
    );

    expect(change).toEqual({ missing: [], unreadDelta: -count });
    expect(await inbox.unreadCount('acme', 'nina')).toBe(0);
    expect(await unreadStored('acme', 'nina')).toBe(0);
  });

  it('reads all, past a page and a transaction, leaving the count at zero', async () => {
    const notes = await storeMany(user('oscar'), 230);
    await inbox.markRead('acme', 'oscar', [notes[0]?.id ?? '', notes[5]?.id ?? '']);

    expect(await inbox.markAllRead('acme', 'oscar')).toEqual({ missing: [], unreadDelta: -228 });
    expect(await inbox.unreadCount('acme', 'oscar')).toBe(0);
    expect(await unreadStored('acme', 'oscar')).toBe(0);
    expect(await inbox.markAllRead('acme', 'oscar')).toEqual({ missing: [], unreadDelta: 0 });
  });

  it('deletes, decrementing only for an unread notification', async () => {
    const [unread, read] = await storeMany(user('pia'), 2);
    if (!unread || !read) throw new Error('stored nothing');
    await inbox.markRead('acme', 'pia', [read.id]);

    expect(await inbox.remove('acme', 'pia', read.id)).toEqual({ missing: [], unreadDelta: 0 });
    expect(await inbox.unreadCount('acme', 'pia')).toBe(1);
    expect(await inbox.remove('acme', 'pia', unread.id)).toEqual({ missing: [], unreadDelta: -1 });
    expect(await inbox.unreadCount('acme', 'pia')).toBe(0);
    expect(await inbox.remove('acme', 'pia', unread.id)).toEqual({
      missing: [unread.id],
      unreadDelta: 0,
    });
    expect(await inbox.list(user('pia'), { limit: 10 })).toEqual({ items: [] });
  });

  it('counts a mark once when the same mark arrives many times at once', async () => {
    const [note] = await storeMany(user('quinn'), 1);
    if (!note) throw new Error('stored nothing');

    const changes = await Promise.all(
      Array.from({ length: 8 }, () => inbox.markRead('acme', 'quinn', [note.id])),
    );

    expect(changes.reduce((sum, change) => sum + change.unreadDelta, 0)).toBe(-1);
    expect(await inbox.unreadCount('acme', 'quinn')).toBe(0);
  });
});

describe('a notification stored but not yet counted', () => {
  /** The fan-out's first write without its second: the item is there, the count is not. */
  async function putUncounted(userId: string): Promise<Notification> {
    const note = notification();
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: { ...note, pk: `U#acme#${userId}`, sk: `N#${note.id}`, expiresAt: EXPIRES_AT },
      }),
    );
    return note;
  }

  it('waits for the pending count before marking it read, so the count never dips below zero', async () => {
    const note = await putUncounted('rosa');
    const sleeps: number[] = [];
    const waiting = new DynamoInbox(local.doc, local.tables.notifications, {
      sleep: async (ms) => {
        sleeps.push(ms);
        // The fan-out's second write lands while the mark waits.
        if (sleeps.length === 1) {
          expect(await inbox.unreadCount('acme', 'rosa')).toBe(0);
          await local.doc.send(
            new UpdateCommand({
              TableName: local.tables.notifications,
              Key: { pk: 'U#acme#rosa', sk: 'STATE' },
              UpdateExpression: 'ADD unread :one',
              ExpressionAttributeValues: { ':one': 1 },
            }),
          );
        }
      },
    });

    expect(await waiting.markRead('acme', 'rosa', [note.id])).toEqual({
      missing: [],
      unreadDelta: -1,
    });
    expect(sleeps).toHaveLength(1);
    expect(await inbox.unreadCount('acme', 'rosa')).toBe(0);
  });

  it('clamps at zero when the count never comes (a store that died between its writes)', async () => {
    const note = await putUncounted('sam');
    const sleeps: number[] = [];
    const waiting = new DynamoInbox(local.doc, local.tables.notifications, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    expect(await waiting.remove('acme', 'sam', note.id)).toEqual({
      missing: [],
      unreadDelta: -1,
    });
    expect(sleeps.length).toBeGreaterThan(1);
    expect(await rawItem('U#acme#sam', 'STATE')).toMatchObject({ unread: 0 });
    expect(await inbox.get('acme', 'sam', note.id)).toBeUndefined();
  });
});

describe('the unread count under concurrent changes (property)', () => {
  type Op =
    | { kind: 'store'; n: number }
    | { kind: 'republish'; n: number }
    | { kind: 'read'; ns: number[] }
    | { kind: 'unread'; n: number }
    | { kind: 'readAll' }
    | { kind: 'remove'; n: number };

  const SLOTS = 4;
  const slot = fc.nat(SLOTS - 1);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('store' as const), n: slot }),
    fc.record({ kind: fc.constant('republish' as const), n: slot }),
    fc.record({
      kind: fc.constant('read' as const),
      ns: fc.uniqueArray(slot, { minLength: 1, maxLength: SLOTS }),
    }),
    fc.record({ kind: fc.constant('unread' as const), n: slot }),
    fc.constant({ kind: 'readAll' as const }),
    fc.record({ kind: fc.constant('remove' as const), n: slot }),
  );
  let run = 0;

  /**
   * Stores through a client whose second write (the count) lags behind its first by up to
   * 20 ms, as it may in Lambda: the window in which a stored item is not yet counted.
   */
  function laggingInbox(): DynamoInbox {
    const lagging = Object.create(local.doc) as typeof local.doc;
    lagging.send = (async (command: unknown) => {
      if (command instanceof UpdateCommand) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
      return local.doc.send(command as never);
    }) as typeof local.doc.send;
    return new DynamoInbox(lagging, local.tables.notifications);
  }

  it('equals the stored unread flags once settled, and is never negative meanwhile', async () => {
    const storing = laggingInbox();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(op, fc.nat(12)), { minLength: 2, maxLength: 14 }),
        fc.uniqueArray(slot, { maxLength: SLOTS }),
        async (ops, seeded) => {
          run += 1;
          const userId = `prop-${run}`;
          const owner = user(userId);
          const notes = Array.from({ length: SLOTS }, () => notification());
          const at = (n: number) => notes[n] ?? notification();
          for (const n of seeded) await inbox.store(owner, at(n), EXPIRES_AT);

          const observed: number[] = [];
          let running = true;
          const observer = (async () => {
            while (running) observed.push(await inbox.unreadCount('acme', userId));
          })();
          try {
            await Promise.all(
              ops.map(async ([step, delayMs]) => {
                await new Promise((resolve) => setTimeout(resolve, delayMs));
                switch (step.kind) {
                  case 'store':
                    return storing.store(owner, at(step.n), EXPIRES_AT);
                  case 'republish':
                    return storing.store(owner, republished(at(step.n), delayMs + 1), EXPIRES_AT);
                  case 'read':
                    return inbox.markRead(
                      'acme',
                      userId,
                      step.ns.map((n) => at(n).id),
                    );
                  case 'unread':
                    return inbox.markUnread('acme', userId, at(step.n).id);
                  case 'readAll':
                    return inbox.markAllRead('acme', userId);
                  case 'remove':
                    return inbox.remove('acme', userId, at(step.n).id);
                }
              }),
            );
          } finally {
            running = false;
            await observer;
          }

          expect(observed.every((count) => count >= 0)).toBe(true);
          expect(await inbox.unreadCount('acme', userId)).toBe(await unreadStored('acme', userId));
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
