import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoFanOutInbox,
  RECENT_EVENTS_HIGH,
  RECENT_EVENTS_KEPT,
} from '#adapters/dynamo-fan-out-inbox';
import type { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
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

  it('takes back the re-put item with its count also when the user read it meanwhile', async () => {
    const gil = user('gil-race');
    const note = notification();
    await inbox.store(gil, note, EXPIRES_AT);
    await owner.remove('acme', 'gil-race', note.id);
    // A redelivery whose Put lands, then the user marks it read before its claim fails.
    const racing = Object.create(local.doc) as typeof local.doc;
    racing.send = (async (command: unknown) => {
      const result = await local.doc.send(command as never);
      if (command instanceof PutCommand) await owner.markRead('acme', 'gil-race', [note.id]);
      return result;
    }) as typeof local.doc.send;
    const other = notification();
    await inbox.store(gil, other, EXPIRES_AT);

    await new DynamoFanOutInbox(racing, local.tables.notifications).store(gil, note, EXPIRES_AT);

    expect((await owner.list(gil, { limit: 10 })).items.map((each) => each.id)).toEqual([other.id]);
    expect(await owner.unreadCount('acme', 'gil-race')).toBe(1);
  });

  it('keeps the user state within one write unit, still knowing the latest notifications', async () => {
    const halId = `hal-${'x'.repeat(200)}`;
    const hal = user(halId);
    const notes = Array.from({ length: 3 * RECENT_EVENTS_HIGH }, () => {
      const note = notification();
      const eventId = note.eventId.replace('evt-', `evt-${'y'.repeat(100)}-`);
      const id = notificationId(Date.parse(note.createdAt), 'acme', eventId);
      return { ...note, eventId, id };
    });
    for (const note of notes) await inbox.store(hal, note, EXPIRES_AT);

    const state = await rawItem(local, `U#acme#${halId}`, 'STATE');
    expect(itemSize(state ?? {})).toBeLessThan(1024 - itemSize({ e_0123456789: Date.now() }));
    // The newest are known even once deleted: a redelivery of any of them does not return.
    const newest = notes.slice(-RECENT_EVENTS_KEPT);
    for (const note of newest) await owner.remove('acme', halId, note.id);
    for (const note of newest) {
      expect(await inbox.store(hal, note, EXPIRES_AT)).toEqual({ fresh: false });
    }
    expect(await owner.unreadCount('acme', halId)).toBe(notes.length - RECENT_EVENTS_KEPT);
    expect((await owner.list(hal, { limit: 200 })).items).toHaveLength(
      notes.length - RECENT_EVENTS_KEPT,
    );
  });
});
