import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { type DynamoOwnerInbox, FLIPS_IN_FLIGHT } from '#adapters/dynamo-owner-inbox';
import type { DynamoLocal } from '#test/support/dynamo-local';
import {
  EXPIRES_AT,
  notification,
  rawItem,
  startInboxTable,
  storeMany,
  unreadStored,
  user,
} from '#test/support/inbox-fixtures';

let local: DynamoLocal;
let fanOut: DynamoFanOutInbox;
let owner: DynamoOwnerInbox;

beforeAll(async () => {
  ({ local, fanOut, owner } = await startInboxTable());
});

afterAll(async () => {
  await local?.stop();
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
      if (note) await fanOut.store(frank, note, EXPIRES_AT);
    }

    const first = await owner.list(frank, { limit: 2 });
    const second = await owner.list(frank, { limit: 2, cursor: first.cursor });
    const third = await owner.list(frank, { limit: 2, cursor: second.cursor });

    expect(first.items).toEqual([notes[4], notes[3]]);
    expect(second.items).toEqual([notes[2], notes[1]]);
    expect(third.items).toEqual([notes[0]]);
    expect(third.cursor).toBeUndefined();
    expect(Object.keys(first.items[0] ?? {})).not.toContain('expiresAt');
    expect(Object.keys(second.items[1] ?? {}).sort()).toEqual([
      'archived',
      'createdAt',
      'eventId',
      'id',
      'interacted',
      'read',
      'seen',
      'type',
    ]);
  });

  it('neither skips nor repeats while newer notifications arrive between pages', async () => {
    const gina = user('gina');
    const before = await storeMany(fanOut, gina, 7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await owner.list(gina, { limit: 2, cursor });
      seen.push(...page.items.map((item) => item.id));
      // A newer one lands between every two pages.
      await fanOut.store(gina, notification(), EXPIRES_AT);
      cursor = page.cursor;
    } while (cursor);

    expect(seen).toEqual(before.map((note) => note.id).reverse());
  });

  it('lists only unread notifications when asked, with a cursor across filtered pages', async () => {
    const hank = user('hank');
    const notes = await storeMany(fanOut, hank, 9);
    const readIds = notes.filter((_, i) => i % 3 !== 0).map((note) => note.id);
    await owner.markRead('acme', 'hank', readIds);
    const unreadIds = notes
      .filter((_, i) => i % 3 === 0)
      .map((note) => note.id)
      .reverse();

    const first = await owner.list(hank, { limit: 2, unreadOnly: true });
    const second = await owner.list(hank, { limit: 2, unreadOnly: true, cursor: first.cursor });

    expect(first.items.map((item) => item.id)).toEqual(unreadIds.slice(0, 2));
    expect(first.items.every((item) => !item.read)).toBe(true);
    expect(first.cursor).toBeDefined();
    expect(second.items.map((item) => item.id)).toEqual(unreadIds.slice(2));
    expect(second.cursor).toBeUndefined();
    expect((await owner.list(hank, { limit: 100 })).items).toHaveLength(9);
  });

  it('never lists another user’s notifications', async () => {
    await fanOut.store(user('grace'), notification(), EXPIRES_AT);

    expect(await owner.list(user('heidi'), { limit: 10 })).toEqual({ items: [] });
    expect(await owner.list(user('grace', 'globex'), { limit: 10 })).toEqual({ items: [] });
  });

  it('leaves a tombstone of keys, expiry and marker on delete, and lists past it', async () => {
    const ivan = user('ivan');
    const [older, deleted] = await storeMany(fanOut, ivan, 2);
    if (!older || !deleted) throw new Error('stored nothing');

    expect(await owner.remove('acme', 'ivan', deleted.id)).toMatchObject({
      missing: [],
      unreadDelta: -1,
    });

    // The same expiry as the row: the TTL takes it when it would have taken the row. No
    // `unreadKey`: out of the unread index in the same write.
    expect(await rawItem(local, 'U#acme#ivan', `N#${deleted.id}`)).toEqual({
      pk: 'U#acme#ivan',
      sk: `N#${deleted.id}`,
      expiresAt: EXPIRES_AT,
      deleted: true,
    });
    const first = await owner.list(ivan, { limit: 1 });
    expect(first.items.map((note) => note.id)).toEqual([older.id]);
    expect(await owner.list(ivan, { limit: 1, cursor: first.cursor })).toEqual({ items: [] });
    expect(await owner.unreadCount('acme', 'ivan')).toBe(1);
  });
});

describe('get', () => {
  it('finds the caller’s own notification only', async () => {
    const note = notification();
    await fanOut.store(user('ken'), note, EXPIRES_AT);

    expect(await owner.get('acme', 'ken', note.id)).toEqual(note);
    expect(await owner.get('acme', 'mallory', note.id)).toBeUndefined();
    expect(await owner.get('globex', 'ken', note.id)).toBeUndefined();
  });
});

describe('unreadCount', () => {
  it('is 0 for a user who never got anything, and counts each fresh store', async () => {
    expect(await owner.unreadCount('acme', 'judy')).toBe(0);

    await fanOut.store(user('judy'), notification(), EXPIRES_AT);
    await fanOut.store(user('judy'), notification(), EXPIRES_AT);

    expect(await owner.unreadCount('acme', 'judy')).toBe(2);
  });
});

describe('read state', () => {
  it('marks read and unread, moving the count with the flag and only when it flips', async () => {
    const [a, b] = await storeMany(fanOut, user('liam'), 2);
    if (!a || !b) throw new Error('stored nothing');

    expect(await owner.markRead('acme', 'liam', [a.id, a.id])).toMatchObject({
      missing: [],
      unreadDelta: -1,
    });
    expect(await owner.markRead('acme', 'liam', [a.id])).toMatchObject({
      missing: [],
      unreadDelta: 0,
    });
    expect(await owner.unreadCount('acme', 'liam')).toBe(1);
    expect((await owner.get('acme', 'liam', a.id))?.read).toBe(true);

    expect(await owner.markUnread('acme', 'liam', a.id)).toMatchObject({
      missing: [],
      unreadDelta: 1,
    });
    expect(await owner.markUnread('acme', 'liam', a.id)).toMatchObject({
      missing: [],
      unreadDelta: 0,
    });
    expect(await owner.unreadCount('acme', 'liam')).toBe(2);
  });

  it('reports ids that are not the caller’s as missing and leaves the owner’s items alone', async () => {
    const [mine] = await storeMany(fanOut, user('mia'), 1);
    if (!mine) throw new Error('stored nothing');
    const ghost = notification().id;

    expect(await owner.markRead('acme', 'mallory', [mine.id, ghost])).toMatchObject({
      missing: [mine.id, ghost],
      unreadDelta: 0,
    });
    expect(await owner.markRead('globex', 'mia', [mine.id])).toMatchObject({
      missing: [mine.id],
      unreadDelta: 0,
    });
    expect(await owner.markUnread('acme', 'mallory', mine.id)).toMatchObject({
      missing: [mine.id],
      unreadDelta: 0,
    });
    expect(await owner.remove('acme', 'mallory', mine.id)).toMatchObject({
      missing: [mine.id],
      unreadDelta: 0,
    });

    expect(await owner.get('acme', 'mia', mine.id)).toMatchObject({ read: false });
    expect(await owner.unreadCount('acme', 'mia')).toBe(1);
    // Nothing was created for the would-be intruder either.
    expect(await rawItem(local, 'U#acme#mallory', `N#${mine.id}`)).toBeUndefined();
    expect(await rawItem(local, 'U#acme#mallory', 'STATE')).toBeUndefined();
  });

  it('marks more than one chunk of flips at once', async () => {
    const count = 4 * FLIPS_IN_FLIGHT + 21;
    const notes = await storeMany(fanOut, user('nina'), count);

    const change = await owner.markRead(
      'acme',
      'nina',
      notes.map((note) => note.id),
    );

    expect(change).toMatchObject({ missing: [], unreadDelta: -count });
    expect(await owner.unreadCount('acme', 'nina')).toBe(0);
    expect(await unreadStored(local, 'acme', 'nina')).toBe(0);
  });

  it('reads all, past a page and a transaction, leaving the count at zero', async () => {
    const notes = await storeMany(fanOut, user('oscar'), 230);
    await owner.markRead('acme', 'oscar', [notes[0]?.id ?? '', notes[5]?.id ?? '']);

    expect(await owner.markAllRead('acme', 'oscar')).toMatchObject({
      missing: [],
      unreadDelta: -228,
    });
    expect(await owner.unreadCount('acme', 'oscar')).toBe(0);
    expect(await unreadStored(local, 'acme', 'oscar')).toBe(0);
    expect(await owner.markAllRead('acme', 'oscar')).toMatchObject({ missing: [], unreadDelta: 0 });
  });

  it('deletes, decrementing only for an unread notification', async () => {
    const [unread, read] = await storeMany(fanOut, user('pia'), 2);
    if (!unread || !read) throw new Error('stored nothing');
    await owner.markRead('acme', 'pia', [read.id]);

    expect(await owner.remove('acme', 'pia', read.id)).toMatchObject({
      missing: [],
      unreadDelta: 0,
    });
    expect(await owner.unreadCount('acme', 'pia')).toBe(1);
    expect(await owner.remove('acme', 'pia', unread.id)).toMatchObject({
      missing: [],
      unreadDelta: -1,
    });
    expect(await owner.unreadCount('acme', 'pia')).toBe(0);
    expect(await owner.remove('acme', 'pia', unread.id)).toMatchObject({
      missing: [unread.id],
      unreadDelta: 0,
    });
    expect(await owner.list(user('pia'), { limit: 10 })).toEqual({ items: [] });
  });

  it('counts a mark once when the same mark arrives many times at once', async () => {
    const [note] = await storeMany(fanOut, user('quinn'), 1);
    if (!note) throw new Error('stored nothing');

    const changes = await Promise.all(
      Array.from({ length: 8 }, () => owner.markRead('acme', 'quinn', [note.id])),
    );

    expect(changes.reduce((sum, change) => sum + change.unreadDelta, 0)).toBe(-1);
    expect(await owner.unreadCount('acme', 'quinn')).toBe(0);
  });
});
