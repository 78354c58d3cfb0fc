import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { BadRequestError, NotFoundError } from '#core/errors';
import {
  connection,
  everyPage,
  HOUR_S,
  partition,
  rawItem,
  START_MS,
} from '#test/support/connection-fixtures';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;
let clockMs = START_MS;
let store: DynamoConnectionStore;

beforeAll(async () => {
  local = await startDynamoLocal();
  store = new DynamoConnectionStore(local.doc, local.tables.connections, () => clockMs);
});

afterAll(async () => {
  await local?.stop();
});

beforeEach(() => {
  clockMs = START_MS;
});

const inAnHour = () => Math.floor(clockMs / 1000) + HOUR_S;

describe('put and get', () => {
  it('round-trips a connection, email included', async () => {
    const conn = connection({ email: 'alice@example.com', topicPatterns: ['project.*', 'org.>'] });
    await store.put(conn, inAnHour());

    expect(await store.get(conn.connectionId)).toEqual(conn);
    expect(await rawItem(local, `U#acme#${conn.userId}`, `C#${conn.connectionId}`)).toEqual({
      pk: `U#acme#${conn.userId}`,
      sk: `C#${conn.connectionId}`,
      connectionId: conn.connectionId,
      userId: conn.userId,
      expiresAt: inAnHour(),
    });
  });

  it('leaves out an absent email and an empty topic set', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());

    const item = await rawItem(local, `C#${conn.connectionId}`, 'C');
    expect(item).not.toHaveProperty('email');
    expect(item).not.toHaveProperty('topics');
    expect(await store.get(conn.connectionId)).toEqual(conn);
  });

  it('answers undefined for an unknown connection', async () => {
    expect(await store.get('never-connected')).toBeUndefined();
  });

  it('treats a connection whose expiry has passed as gone, though TTL has not deleted it', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());
    clockMs += (HOUR_S + 1) * 1000;

    expect(await store.get(conn.connectionId)).toBeUndefined();
    expect(await rawItem(local, `C#${conn.connectionId}`, 'C')).toBeDefined();
  });
});

describe('remove', () => {
  it('deletes the user entry, every topic entry and the connection entry', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());
    await store.subscribe(conn, ['project.1', 'project.2'], inAnHour());
    const other = connection({ userId: conn.userId });
    await store.put(other, inAnHour());
    await store.subscribe(other, ['project.1'], inAnHour());

    await store.remove(conn.connectionId);

    expect(await rawItem(local, `C#${conn.connectionId}`, 'C')).toBeUndefined();
    expect(await rawItem(local, `U#acme#${conn.userId}`, `C#${conn.connectionId}`)).toBeUndefined();
    expect(await partition(local, 'T#acme#project.2')).toEqual([]);
    // The user's and the topic's other connection stay.
    expect((await store.listForUser('acme', conn.userId)).items).toEqual([
      { connectionId: other.connectionId, userId: conn.userId },
    ]);
    expect((await partition(local, 'T#acme#project.1')).map((item) => item.connectionId)).toEqual([
      other.connectionId,
    ]);
  });

  it('is idempotent: an unknown or already removed id is no error', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());
    await store.remove(conn.connectionId);

    await expect(store.remove(conn.connectionId)).resolves.toBeUndefined();
    await expect(store.remove('never-connected')).resolves.toBeUndefined();
  });

  it('deletes topic entries beyond one batch of 25', async () => {
    const conn = connection({ tenant: 'many-topics' });
    await store.put(conn, inAnHour());
    const topics = Array.from({ length: 30 }, (_, i) => `board.${i}`);
    await store.subscribe(conn, topics, inAnHour());

    await store.remove(conn.connectionId);

    const left = await Promise.all(
      topics.map((topic) => partition(local, `T#many-topics#${topic}`)),
    );
    expect(left.flat()).toEqual([]);
    expect(await rawItem(local, `C#${conn.connectionId}`, 'C')).toBeUndefined();
  });
});

describe('listForUser', () => {
  it('lists only connections that have not expired', async () => {
    const live = connection();
    const stale = connection({ userId: live.userId });
    await store.put(live, inAnHour());
    await store.put(stale, Math.floor(clockMs / 1000) - 1);

    expect((await store.listForUser('acme', live.userId)).items).toEqual([
      { connectionId: live.connectionId, userId: live.userId },
    ]);
  });

  it('pages through a user with several connections, nothing repeated or skipped', async () => {
    const paged = new DynamoConnectionStore(local.doc, local.tables.connections, () => clockMs, {
      userPageSize: 3,
    });
    const userId = 'many-tabs';
    const tabs = Array.from({ length: 8 }, () => connection({ userId }));
    await Promise.all(tabs.map((tab) => paged.put(tab, inAnHour())));
    const ids = tabs.map((tab) => tab.connectionId);

    const { all, pages } = await everyPage((cursor) => paged.listForUser('acme', userId, cursor));

    expect(pages).toBeGreaterThanOrEqual(3);
    expect(all.map((ref) => ref.connectionId).sort()).toEqual([...ids].sort());
    expect(all.every((ref) => ref.userId === userId)).toBe(true);
  });

  it('keeps tenants apart: the same user id in two tenants is two users', async () => {
    const inAcme = connection({ tenant: 'acme', userId: 'shared-name' });
    const inGlobex = connection({ tenant: 'globex', userId: 'shared-name' });
    await store.put(inAcme, inAnHour());
    await store.put(inGlobex, inAnHour());

    expect((await store.listForUser('acme', 'shared-name')).items).toEqual([
      { connectionId: inAcme.connectionId, userId: 'shared-name' },
    ]);
    expect((await store.listForUser('globex', 'shared-name')).items).toEqual([
      { connectionId: inGlobex.connectionId, userId: 'shared-name' },
    ]);
  });

  it('rejects a cursor from another partition as a bad request', async () => {
    const paged = new DynamoConnectionStore(local.doc, local.tables.connections, () => clockMs, {
      userPageSize: 1,
    });
    const userId = 'cursor-owner';
    await paged.put(connection({ userId }), inAnHour());
    await paged.put(connection({ userId }), inAnHour());
    const { cursor } = await paged.listForUser('acme', userId);
    expect(cursor).toBeDefined();

    await expect(paged.listForUser('acme', 'someone-else', cursor)).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(paged.listForUser('globex', userId, cursor)).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });
});

describe('listForTopic', () => {
  it('pages through 25 subscribers 10 at a time, nothing repeated or skipped', async () => {
    const subscribers = Array.from({ length: 25 }, () => connection({ tenant: 'big' }));
    await Promise.all(subscribers.map((conn) => store.put(conn, inAnHour())));
    await Promise.all(subscribers.map((conn) => store.subscribe(conn, ['launch'], inAnHour())));

    const sizes: number[] = [];
    const { all } = await everyPage(async (cursor) => {
      const page = await store.listForTopic('big', 'launch', { cursor, limit: 10 });
      sizes.push(page.items.length);
      return page;
    });

    expect(sizes.slice(0, 3)).toEqual([10, 10, 5]);
    expect(all).toHaveLength(25);
    expect(all.map((ref) => ref.connectionId).sort()).toEqual(
      subscribers.map((conn) => conn.connectionId).sort(),
    );
    expect(all).toContainEqual({
      connectionId: subscribers[0]?.connectionId,
      userId: subscribers[0]?.userId,
    });
  });

  it('leaves out expired subscribers and other tenants', async () => {
    const live = connection({ tenant: 'acme' });
    const stale = connection({ tenant: 'acme' });
    const elsewhere = connection({ tenant: 'globex' });
    const past = Math.floor(clockMs / 1000) - 1;
    await store.put(live, inAnHour());
    await store.put(stale, inAnHour());
    await store.put(elsewhere, inAnHour());
    await store.subscribe(live, ['news'], inAnHour());
    await store.subscribe(stale, ['news'], past);
    await store.subscribe(elsewhere, ['news'], inAnHour());

    const page = await store.listForTopic('acme', 'news', { limit: 50 });

    expect(page.items).toEqual([{ connectionId: live.connectionId, userId: live.userId }]);
  });
});

describe('subscribe and unsubscribe', () => {
  it('records topics on the connection and as topic entries, and takes them back', async () => {
    const conn = connection({ tenant: 'subs' });
    await store.put(conn, inAnHour());

    await store.subscribe(conn, ['b.2', 'a.1', 'b.2'], inAnHour());
    expect((await store.get(conn.connectionId))?.topics).toEqual(['a.1', 'b.2']);
    const ref = { connectionId: conn.connectionId, userId: conn.userId };
    expect((await store.listForTopic('subs', 'a.1', { limit: 10 })).items).toEqual([ref]);

    await store.unsubscribe(conn, ['a.1']);
    expect((await store.get(conn.connectionId))?.topics).toEqual(['b.2']);
    expect((await store.listForTopic('subs', 'a.1', { limit: 10 })).items).toEqual([]);
    expect((await store.listForTopic('subs', 'b.2', { limit: 10 })).items).toEqual([ref]);

    await store.unsubscribe(conn, ['b.2']);
    expect((await store.get(conn.connectionId))?.topics).toEqual([]);
    expect(await rawItem(local, `C#${conn.connectionId}`, 'C')).not.toHaveProperty('topics');
  });

  it('refuses to subscribe a connection that is gone, and writes no topic entry', async () => {
    const gone = connection({ tenant: 'gone' });

    await expect(store.subscribe(gone, ['x'], inAnHour())).rejects.toBeInstanceOf(NotFoundError);
    expect(await partition(local, 'T#gone#x')).toEqual([]);
    expect(await rawItem(local, `C#${gone.connectionId}`, 'C')).toBeUndefined();
  });

  it('unsubscribes a removed connection quietly, without recreating its item', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());
    await store.remove(conn.connectionId);

    await expect(store.unsubscribe(conn, ['x'])).resolves.toBeUndefined();
    expect(await rawItem(local, `C#${conn.connectionId}`, 'C')).toBeUndefined();
  });
});
