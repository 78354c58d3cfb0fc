import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { BadRequestError, NotFoundError } from '#core/errors';
import type { Connection, ConnectionRef, Page } from '#core/model';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

const START_MS = Date.UTC(2030, 0, 1);
const HOUR_S = 3600;

let local: DynamoLocal;
let clockMs = START_MS;
let store: DynamoConnectionStore;
let sequence = 0;

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

/** A connection with ids unique to this run, so tests never see each other's items. */
function connection(overrides: Partial<Connection> = {}): Connection {
  sequence += 1;
  return {
    connectionId: `conn-${sequence}=`,
    tenant: 'acme',
    userId: `user-${sequence}`,
    topicPatterns: ['project.*'],
    connectedAt: START_MS,
    topics: [],
    ...overrides,
  };
}

const inAnHour = () => Math.floor(clockMs / 1000) + HOUR_S;

async function rawItem(pk: string, sk: string) {
  const { Item } = await local.doc.send(
    new GetCommand({ TableName: local.tables.connections, Key: { pk, sk }, ConsistentRead: true }),
  );
  return Item;
}

async function partition(pk: string) {
  const { Items = [] } = await local.doc.send(
    new QueryCommand({
      TableName: local.tables.connections,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** Follows cursors to the end, as the fan-out does. */
async function everyPage(next: (cursor?: string) => Promise<Page<ConnectionRef>>) {
  const all: ConnectionRef[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await next(cursor);
    all.push(...page.items);
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== undefined);
  return { all, pages };
}

describe('put and get', () => {
  it('round-trips a connection, email included', async () => {
    const conn = connection({ email: 'alice@example.com', topicPatterns: ['project.*', 'org.>'] });
    await store.put(conn, inAnHour());

    expect(await store.get(conn.connectionId)).toEqual(conn);
    expect(await rawItem(`U#acme#${conn.userId}`, `C#${conn.connectionId}`)).toEqual({
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

    const item = await rawItem(`C#${conn.connectionId}`, 'C');
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
    expect(await rawItem(`C#${conn.connectionId}`, 'C')).toBeDefined();
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

    expect(await rawItem(`C#${conn.connectionId}`, 'C')).toBeUndefined();
    expect(await rawItem(`U#acme#${conn.userId}`, `C#${conn.connectionId}`)).toBeUndefined();
    expect(await partition('T#acme#project.2')).toEqual([]);
    // The user's and the topic's other connection stay.
    expect((await store.listForUser('acme', conn.userId)).items).toEqual([
      { connectionId: other.connectionId, userId: conn.userId },
    ]);
    expect((await partition('T#acme#project.1')).map((item) => item.connectionId)).toEqual([
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

    const left = await Promise.all(topics.map((topic) => partition(`T#many-topics#${topic}`)));
    expect(left.flat()).toEqual([]);
    expect(await rawItem(`C#${conn.connectionId}`, 'C')).toBeUndefined();
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

describe('one Query per page', () => {
  let client: DynamoDBClient | undefined;
  let counted: DynamoConnectionStore;
  let queries = 0;

  beforeAll(() => {
    // A client of its own, counting the Query requests it sends.
    client = new DynamoDBClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queries++;
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
    counted = new DynamoConnectionStore(
      createDocumentClient(client),
      local.tables.connections,
      () => clockMs,
      { userPageSize: 3 },
    );
  });

  afterAll(() => client?.destroy());

  /** Subscribes `count` new connections of `tenant` to `launch`; their ids, sorted. */
  async function topicOf(tenant: string, count: number): Promise<string[]> {
    const subscribers = Array.from({ length: count }, () => connection({ tenant }));
    await Promise.all(subscribers.map((conn) => store.put(conn, inAnHour())));
    await Promise.all(subscribers.map((conn) => store.subscribe(conn, ['launch'], inAnHour())));
    return subscribers.map((conn) => conn.connectionId).sort();
  }

  async function listAll(next: (cursor?: string) => Promise<Page<ConnectionRef>>) {
    queries = 0;
    const sizes: number[] = [];
    const { all, pages } = await everyPage(async (cursor) => {
      const page = await next(cursor);
      sizes.push(page.items.length);
      return page;
    });
    return { ids: all.map((ref) => ref.connectionId).sort(), pages, sizes, queries };
  }

  it('lists a topic of exactly two pages in two Queries, nothing skipped or repeated', async () => {
    const ids = await topicOf('exact-pages', 20);

    const listed = await listAll((cursor) =>
      counted.listForTopic('exact-pages', 'launch', { cursor, limit: 10 }),
    );

    expect(listed).toEqual({ ids, pages: 2, sizes: [10, 10], queries: 2 });
  });

  it('lists a topic one past two pages in three pages and three Queries', async () => {
    const ids = await topicOf('one-more', 21);

    const listed = await listAll((cursor) =>
      counted.listForTopic('one-more', 'launch', { cursor, limit: 10 }),
    );

    expect(listed).toEqual({ ids, pages: 3, sizes: [10, 10, 1], queries: 3 });
  });

  it('lists a user of exactly two pages in two Queries', async () => {
    const userId = 'six-tabs';
    const tabs = Array.from({ length: 6 }, () => connection({ userId }));
    await Promise.all(tabs.map((tab) => store.put(tab, inAnHour())));

    const listed = await listAll((cursor) => counted.listForUser('acme', userId, cursor));

    expect(listed).toEqual({
      ids: tabs.map((tab) => tab.connectionId).sort(),
      pages: 2,
      sizes: [3, 3],
      queries: 2,
    });
  });

  it('goes on past expired entries that DynamoDB read but filtered out', async () => {
    const ids = await topicOf('some-expired', 12);
    const expired = ids.filter((_, i) => i % 4 === 1);
    const past = Math.floor(clockMs / 1000) - 1;
    await Promise.all(
      expired.map((connectionId) =>
        store.subscribe(
          { ...connection(), connectionId, tenant: 'some-expired' },
          ['launch'],
          past,
        ),
      ),
    );

    const listed = await listAll((cursor) =>
      counted.listForTopic('some-expired', 'launch', { cursor, limit: 4 }),
    );

    expect(listed.ids).toEqual(ids.filter((id) => !expired.includes(id)));
  });
});

describe('topicPages', () => {
  /** Subscribes connections with the given ids (their sort order is theirs) to `launch`. */
  async function subscribe(tenant: string, ids: string[], expiresAt = inAnHour()) {
    const subscribers = ids.map((connectionId) => connection({ tenant, connectionId }));
    await Promise.all(subscribers.map((conn) => store.put(conn, inAnHour())));
    await Promise.all(subscribers.map((conn) => store.subscribe(conn, ['launch'], expiresAt)));
  }
  const ids = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

  async function listRange(tenant: string, range: { cursor?: string; until: string }) {
    const listed: string[] = [];
    let cursor = range.cursor;
    let pages = 0;
    do {
      const page = await store.listForTopic(tenant, 'launch', { ...range, cursor, limit: 10 });
      listed.push(...page.items.map((ref) => ref.connectionId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    return { listed, pages };
  }

  it('walks 25 subscribers into ranges of 10, 10 and 5 that list exactly them', async () => {
    const all = ids('w-', 25);
    await subscribe('walked', all);

    const walk = await store.topicPages('walked', 'launch', { pageSize: 10, maxPages: 10 });

    expect(walk.rest).toBeUndefined();
    expect(walk.pages).toHaveLength(3);
    expect(walk.pages[0]?.cursor).toBeUndefined();
    expect(walk.pages[1]?.cursor).toBe(walk.pages[0]?.until);
    expect(walk.pages[2]?.cursor).toBe(walk.pages[1]?.until);
    const ranges = [];
    for (const range of walk.pages) ranges.push(await listRange('walked', range));
    expect(ranges).toEqual([
      { listed: all.slice(0, 10), pages: 1 },
      { listed: all.slice(10, 20), pages: 1 },
      { listed: all.slice(20), pages: 1 },
    ]);
  });

  it('stops after maxPages, saying where the rest starts, and walks on from there', async () => {
    const all = ids('m-', 25);
    await subscribe('bounded', all);

    const first = await store.topicPages('bounded', 'launch', { pageSize: 10, maxPages: 2 });
    expect(first.pages).toHaveLength(2);
    expect(first.rest).toBe(first.pages[1]?.until);
    const rest = await store.topicPages('bounded', 'launch', {
      cursor: first.rest,
      pageSize: 10,
      maxPages: 2,
    });

    expect(rest).toEqual({ pages: [{ cursor: first.rest, until: expect.any(String) }] });
    expect((await listRange('bounded', rest.pages[0] as { until: string })).listed).toEqual(
      all.slice(20),
    );
  });

  it('makes no empty page and no rest when the topic ends with a full page', async () => {
    await subscribe('multiple', ids('x-', 20));

    const bounded = await store.topicPages('multiple', 'launch', { pageSize: 10, maxPages: 2 });
    const unbounded = await store.topicPages('multiple', 'launch', { pageSize: 10, maxPages: 9 });

    expect(bounded.pages).toHaveLength(2);
    expect(bounded.rest).toBeUndefined();
    expect(unbounded).toEqual(bounded);
    expect(await store.topicPages('nobody', 'launch', { pageSize: 10, maxPages: 2 })).toEqual({
      pages: [],
    });
  });

  it('counts expired entries, so that a range never holds more than a page', async () => {
    const live = ids('l-', 10);
    const expired = ids('l-0', 5).map((id) => `${id}x`);
    await subscribe('ttl-lag', live);
    await subscribe('ttl-lag', expired, Math.floor(clockMs / 1000) - 1);

    const walk = await store.topicPages('ttl-lag', 'launch', { pageSize: 5, maxPages: 9 });

    expect(walk.pages).toHaveLength(3);
    const listed = [];
    for (const range of walk.pages) listed.push(await listRange('ttl-lag', range));
    expect(listed.every((range) => range.pages === 1)).toBe(true);
    expect(listed.flatMap((range) => range.listed)).toEqual(live);
  });

  it('lists subscribers who joined inside a range, and none beyond its end', async () => {
    const all = ids('j-', 20);
    await subscribe('joined', all);
    const [firstRange] = (await store.topicPages('joined', 'launch', { pageSize: 10, maxPages: 2 }))
      .pages;
    const joiners = ['j-003a', 'j-003b', 'j-008a'];
    // After the range's last entry (j-009): the next range's.
    await subscribe('joined', [...joiners, 'j-009a']);

    const listed = await listRange('joined', firstRange as { until: string });

    expect(listed.pages).toBe(2);
    expect(listed.listed).toEqual([...all.slice(0, 10), ...joiners].sort());
  });

  it('answers a range listed up to its end with nothing', async () => {
    await subscribe('read-out', ids('r-', 3));
    const [range] = (await store.topicPages('read-out', 'launch', { pageSize: 3, maxPages: 1 }))
      .pages;
    const until = range?.until as string;

    expect(
      await store.listForTopic('read-out', 'launch', { cursor: until, until, limit: 5 }),
    ).toEqual({ items: [] });
  });

  it('refuses a range end from another topic as a bad request', async () => {
    await subscribe('theirs', ids('t-', 3));
    await subscribe('ours', ids('o-', 3));
    const [theirs] = (await store.topicPages('theirs', 'launch', { pageSize: 2, maxPages: 1 }))
      .pages;

    await expect(
      store.listForTopic('ours', 'launch', { limit: 10, until: theirs?.until }),
    ).rejects.toBeInstanceOf(BadRequestError);
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
    expect(await rawItem(`C#${conn.connectionId}`, 'C')).not.toHaveProperty('topics');
  });

  it('refuses to subscribe a connection that is gone, and writes no topic entry', async () => {
    const gone = connection({ tenant: 'gone' });

    await expect(store.subscribe(gone, ['x'], inAnHour())).rejects.toBeInstanceOf(NotFoundError);
    expect(await partition('T#gone#x')).toEqual([]);
    expect(await rawItem(`C#${gone.connectionId}`, 'C')).toBeUndefined();
  });

  it('unsubscribes a removed connection quietly, without recreating its item', async () => {
    const conn = connection();
    await store.put(conn, inAnHour());
    await store.remove(conn.connectionId);

    await expect(store.unsubscribe(conn, ['x'])).resolves.toBeUndefined();
    expect(await rawItem(`C#${conn.connectionId}`, 'C')).toBeUndefined();
  });
});
