import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import type { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Recipient } from '#core/model';
import type { DynamoLocal } from '#test/support/dynamo-local';
import {
  EXPIRES_AT,
  notification,
  rawItem,
  startInboxTable,
  user,
} from '#test/support/inbox-fixtures';

let local: DynamoLocal;
let inbox: DynamoFanOutInbox;
let owner: DynamoOwnerInbox;

beforeAll(async () => {
  ({ local, fanOut: inbox, owner } = await startInboxTable());
});

afterAll(async () => {
  await local?.stop();
});

describe('store', () => {
  it('stores once: a duplicate is not fresh and does not count as unread again', async () => {
    const alice = user('alice-dup');
    const note = notification();

    expect(await inbox.store(alice, note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(alice, { ...note, title: 'changed' }, EXPIRES_AT)).toEqual({
      fresh: false,
    });

    expect(await owner.unreadCount('acme', 'alice-dup')).toBe(1);
    const item = await rawItem(local, 'U#acme#alice-dup', `N#${note.id}`);
    expect(item).toMatchObject({ title: 'New comment', expiresAt: EXPIRES_AT, read: false });
    expect(item).not.toHaveProperty('undelivered');
  });

  it('keeps a topic history without read state or an unread count', async () => {
    const topic: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.42' };
    const note = notification({ topic: 'project.42' });

    expect(await inbox.store(topic, note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(topic, note, EXPIRES_AT)).toEqual({ fresh: false });

    const item = await rawItem(local, 'T#acme#project.42', `N#${note.id}`);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('read');
    expect(await rawItem(local, 'T#acme#project.42', 'STATE')).toBeUndefined();
    expect((await owner.list(topic, { limit: 10 })).items).toEqual([note]);
  });

  it('keeps the same notification id apart for different users and tenants', async () => {
    const note = notification();

    expect(await inbox.store(user('carol'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(user('dave'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await inbox.store(user('carol', 'globex'), note, EXPIRES_AT)).toEqual({ fresh: true });
    expect(await owner.unreadCount('globex', 'carol')).toBe(1);
  });
});

// A re-published event id reaches the inbox with its first notification's id: the fan-out's
// event ledger gives it its first publish time. So the inbox knows it by that id alone.
describe('store: a publisher re-publishing an event id', () => {
  it('keeps the first notification and counts it once, however many came between', async () => {
    const erin = user('erin-republish');
    const note = notification();
    await inbox.store(erin, note, EXPIRES_AT);
    const between = Array.from({ length: 40 }, () => notification());
    for (const other of between) await inbox.store(erin, other, EXPIRES_AT);

    const again = await inbox.store(erin, note, EXPIRES_AT);

    expect(again).toEqual({ fresh: false });
    const ids = (await owner.list(erin, { limit: 100 })).items.map((each) => each.id);
    expect(ids).toHaveLength(41);
    expect(ids.filter((id) => id === note.id)).toHaveLength(1);
    expect(await owner.unreadCount('acme', 'erin-republish')).toBe(41);
  });

  it('does not bring back a notification the user deleted when it is delivered again', async () => {
    const fay = user('fay-deleted');
    const note = notification();
    await inbox.store(fay, note, EXPIRES_AT);
    await owner.remove('acme', 'fay-deleted', note.id);

    expect(await inbox.store(fay, note, EXPIRES_AT)).toEqual({ fresh: false });
    // A re-publish, later: the same id again (the ledger's), after other notifications.
    const other = notification();
    await inbox.store(fay, other, EXPIRES_AT);
    expect((await inbox.store(fay, note, EXPIRES_AT)).fresh).toBe(false);

    expect((await owner.list(fay, { limit: 10 })).items.map((each) => each.id)).toEqual([other.id]);
    expect(await owner.unreadCount('acme', 'fay-deleted')).toBe(1);
  });

  it('does not bring back a deleted one however many came between, with no user state', async () => {
    const hal = user('hal-deleted-long-ago');
    const note = notification();
    await inbox.store(hal, note, EXPIRES_AT);
    await owner.remove('acme', 'hal-deleted-long-ago', note.id);
    const between = Array.from({ length: 100 }, () => notification());
    for (const other of between) await inbox.store(hal, other, EXPIRES_AT);

    expect(await inbox.store(hal, note, EXPIRES_AT)).toEqual({ fresh: false });

    expect(await owner.unreadCount('acme', 'hal-deleted-long-ago')).toBe(100);
    expect((await owner.list(hal, { limit: 200 })).items).toHaveLength(100);
    // The tombstone did it: nothing is kept beside the rows.
    expect(await rawItem(local, 'U#acme#hal-deleted-long-ago', 'STATE')).toBeUndefined();
  });
});
