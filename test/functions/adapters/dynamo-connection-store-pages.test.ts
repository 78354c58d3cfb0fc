/**
 * How `DynamoConnectionStore` pages: one Query per page of a listing, and the ranges a
 * topic's walk (`topicPages`) splits its subscribers into.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { BadRequestError } from '#core/errors';
import type { ConnectionRef, Page } from '#core/model';
import { connection, everyPage, HOUR_S, START_MS } from '#test/support/connection-fixtures';
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
