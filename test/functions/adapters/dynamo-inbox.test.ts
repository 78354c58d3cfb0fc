import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoInbox } from '../../../functions/adapters/dynamo-inbox';
import { NotFoundError } from '../../../functions/core/errors';
import type { Notification, Recipient } from '../../../functions/core/model';
import { type DynamoLocal, startDynamoLocal } from '../../support/dynamo-local';

const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);

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

/** Ids that sort by creation, as Herald's do. */
function notification(overrides: Partial<Notification> = {}): Notification {
  sequence += 1;
  const id = `01J${String(sequence).padStart(8, '0')}`;
  return {
    id,
    eventId: `evt-${sequence}`,
    type: 'comment.created',
    title: 'New comment',
    body: 'Bob replied to your post',
    data: { postId: 42, tags: ['a'], nested: { ok: true } },
    url: 'https://app.example/posts/42',
    createdAt: new Date(Date.UTC(2029, 0, 1, 0, 0, sequence)).toISOString(),
    read: false,
    ...overrides,
  };
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
  });

  it('answers a duplicate with the connections an earlier attempt could not reach', async () => {
    const bob = user('bob-retry');
    const note = notification();
    await inbox.store(bob, note, EXPIRES_AT);

    await inbox.setUndelivered(bob, note.id, ['conn-b', 'conn-a', 'conn-b']);
    const send = vi.spyOn(local.doc, 'send');
    try {
      expect(await inbox.store(bob, note, EXPIRES_AT)).toEqual({
        fresh: false,
        undelivered: ['conn-a', 'conn-b'],
      });
      // The failed condition returned the old item: the duplicate cost one request.
      expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(['PutCommand']);
    } finally {
      send.mockRestore();
    }

    await inbox.setUndelivered(bob, note.id, []);
    expect(await inbox.store(bob, note, EXPIRES_AT)).toEqual({ fresh: false });
    expect(await rawItem('U#acme#bob-retry', `N#${note.id}`)).not.toHaveProperty('undelivered');
    expect(await inbox.unreadCount('acme', 'bob-retry')).toBe(1);
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

describe('setUndelivered', () => {
  it('refuses a notification that was never stored, without creating it', async () => {
    await expect(inbox.setUndelivered(user('erin'), 'missing', ['c1'])).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await rawItem('U#acme#erin', 'N#missing')).toBeUndefined();
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
    expect(await rawItem('U#acme#ivan', 'STATE')).toEqual({
      pk: 'U#acme#ivan',
      sk: 'STATE',
      unread: 1,
    });
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
