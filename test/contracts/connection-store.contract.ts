/**
 * The `ConnectionStore` contract (see `functions/core/ports.ts`): connections by id, by
 * user and by topic, each expiring at its TTL (treated as gone once past, whenever TTL
 * deletes it), listed in pages whose cursors neither skip nor repeat.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '#core/errors';
import type { Connection, ConnectionRef, Page } from '#core/model';
import type { ConnectionStore } from '#core/ports';
import { unique } from './names';

export interface ConnectionStoreSettings {
  /** The clock (ms) expiries are read against. */
  now: () => number;
  userPageSize: number;
}

const START_MS = Date.UTC(2030, 0, 1);
const USER_PAGE_SIZE = 3;

export function connectionStoreContract(
  make: (settings: ConnectionStoreSettings) => ConnectionStore,
): void {
  describe('ConnectionStore', () => {
    let store: ConnectionStore;
    let clockMs: number;
    let tenant: string;

    beforeEach(() => {
      clockMs = START_MS;
      store = make({ now: () => clockMs, userPageSize: USER_PAGE_SIZE });
      tenant = unique('tenant');
    });

    const inAnHour = () => Math.floor(clockMs / 1000) + 3600;

    function connection(overrides: Partial<Connection> = {}): Connection {
      return {
        connectionId: unique('conn'),
        tenant,
        userId: unique('user'),
        topicPatterns: ['project.*'],
        connectedAt: START_MS,
        topics: [],
        ...overrides,
      };
    }

    async function connect(overrides: Partial<Connection> = {}): Promise<Connection> {
      const made = connection(overrides);
      await store.put(made, inAnHour());
      return made;
    }

    /** Follows cursors to the end: every id listed, in order, and each page's size. */
    async function everyPage(next: (cursor?: string) => Promise<Page<ConnectionRef>>) {
      const ids: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await next(cursor);
        ids.push(...page.items.map((ref) => ref.connectionId));
        sizes.push(page.items.length);
        cursor = page.cursor;
      } while (cursor !== undefined && sizes.length < 50);
      return { ids, sizes };
    }

    const topicIds = (topic: string, limit = 10) =>
      everyPage((cursor) => store.listForTopic(tenant, topic, { cursor, limit }));

    describe('put, get and remove', () => {
      it('round-trips a connection, email included, its topics once each and sorted', async () => {
        const made = await connect({ email: 'a@example.com', topics: ['b.2', 'a.1', 'b.2'] });

        expect(await store.get(made.connectionId)).toEqual({ ...made, topics: ['a.1', 'b.2'] });
      });

      it('leaves out an absent email', async () => {
        const made = await connect();

        const read = await store.get(made.connectionId);
        expect(read).toEqual(made);
        expect(read).not.toHaveProperty('email');
      });

      it('answers undefined for an unknown connection, and for one past its expiry', async () => {
        const made = await connect();
        expect(await store.get(unique('conn'))).toBeUndefined();

        clockMs += 3601_000;

        expect(await store.get(made.connectionId)).toBeUndefined();
        expect((await store.listForUser(tenant, made.userId)).items).toEqual([]);
      });

      it('removes every entry of a connection, and removes an unknown one quietly', async () => {
        const made = await connect({ topics: ['news'] });
        await store.subscribe(made, ['alerts'], inAnHour());

        await store.remove(made.connectionId);
        await store.remove(made.connectionId);
        await store.remove(unique('conn'));

        expect(await store.get(made.connectionId)).toBeUndefined();
        expect((await store.listForUser(tenant, made.userId)).items).toEqual([]);
        expect((await topicIds('news')).ids).toEqual([]);
        expect((await topicIds('alerts')).ids).toEqual([]);
      });
    });

    describe('listForUser', () => {
      it('pages through a user’s connections, nothing skipped or repeated, others apart', async () => {
        const userId = unique('user');
        const tabs = await Promise.all(Array.from({ length: 7 }, () => connect({ userId })));
        await connect({ userId, tenant: unique('other') });
        await connect();

        const listed = await everyPage((cursor) => store.listForUser(tenant, userId, cursor));

        expect([...listed.ids].sort()).toEqual(tabs.map((tab) => tab.connectionId).sort());
        expect(listed.sizes).toEqual([3, 3, 1]);
      });

      it('ends with the page the connections fill exactly', async () => {
        const userId = unique('user');
        await Promise.all(Array.from({ length: 2 * USER_PAGE_SIZE }, () => connect({ userId })));

        const listed = await everyPage((cursor) => store.listForUser(tenant, userId, cursor));

        expect(listed.sizes).toEqual([USER_PAGE_SIZE, USER_PAGE_SIZE]);
      });

      it('leaves out expired connections, and goes on past them', async () => {
        const userId = unique('user');
        const live = await Promise.all(Array.from({ length: 4 }, () => connect({ userId })));
        const past = Math.floor(clockMs / 1000) - 1;
        for (let i = 0; i < 5; i++) await store.put(connection({ userId }), past);

        const listed = await everyPage((cursor) => store.listForUser(tenant, userId, cursor));

        expect([...listed.ids].sort()).toEqual(live.map((tab) => tab.connectionId).sort());
      });
    });

    describe('topics', () => {
      it('records subscriptions on the connection and in the topic, and takes them back', async () => {
        const made = await connect({ topics: ['news'] });

        await store.subscribe(made, ['project.1', 'project.2', 'project.1'], inAnHour());
        expect((await store.get(made.connectionId))?.topics).toEqual([
          'news',
          'project.1',
          'project.2',
        ]);
        expect((await topicIds('project.1')).ids).toEqual([made.connectionId]);

        await store.unsubscribe(made, ['project.1', 'news']);
        expect((await store.get(made.connectionId))?.topics).toEqual(['project.2']);
        expect((await topicIds('project.1')).ids).toEqual([]);
        expect((await topicIds('news')).ids).toEqual([]);
        expect((await topicIds('project.2')).ids).toEqual([made.connectionId]);
      });

      it('refuses a subscribe past maxTopics as a whole, counting held topics once', async () => {
        const made = await connect({ topics: ['a', 'b'] });
        const limits = { maxTopics: 3 };

        await expect(
          store.subscribe(made, ['b', 'c', 'd'], inAnHour(), limits),
        ).rejects.toMatchObject({ code: 'too_many_subscriptions' });
        expect((await store.get(made.connectionId))?.topics).toEqual(['a', 'b']);
        expect((await topicIds('c')).ids).toEqual([]);

        await store.subscribe(made, ['b', 'c'], inAnHour(), limits);
        expect((await store.get(made.connectionId))?.topics).toEqual(['a', 'b', 'c']);
        expect((await topicIds('c')).ids).toEqual([made.connectionId]);
        await store.subscribe(made, ['a'], inAnHour(), limits);
        await expect(
          store.subscribe(connection(), ['x'], inAnHour(), limits),
        ).rejects.toBeInstanceOf(NotFoundError);
      });

      it('refuses to subscribe a connection that is gone, and unsubscribes it quietly', async () => {
        const gone = connection();

        await expect(store.subscribe(gone, ['news'], inAnHour())).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(store.unsubscribe(gone, ['news'])).resolves.toBeUndefined();
        expect((await topicIds('news')).ids).toEqual([]);
        expect(await store.get(gone.connectionId)).toBeUndefined();
      });

      it('pages through a topic’s subscribers, leaving out the expired and other tenants', async () => {
        const subscribers = await Promise.all(
          Array.from({ length: 12 }, () => connect({ topics: ['launch'] })),
        );
        const expiring = await connect();
        await store.subscribe(expiring, ['launch'], Math.floor(clockMs / 1000) - 1);
        await store.put(connection({ tenant: unique('other'), topics: ['launch'] }), inAnHour());

        const listed = await topicIds('launch', 5);

        expect(listed.ids).toEqual(subscribers.map((each) => each.connectionId).sort());
        expect(listed.sizes).toEqual([5, 5, 2]);
        expect(await store.get(expiring.connectionId)).toBeDefined();
      });

      it('walks a topic into ranges of a page each, which list exactly its subscribers', async () => {
        const ids = (
          await Promise.all(Array.from({ length: 25 }, () => connect({ topics: ['w'] })))
        )
          .map((each) => each.connectionId)
          .sort();

        const walk = await store.topicPages(tenant, 'w', { pageSize: 10, maxPages: 10 });

        expect(walk.rest).toBeUndefined();
        expect(walk.pages).toHaveLength(3);
        const ranges = await Promise.all(
          walk.pages.map((range) =>
            everyPage((cursor) =>
              store.listForTopic(tenant, 'w', {
                cursor: cursor ?? range.cursor,
                until: range.until,
                limit: 10,
              }),
            ),
          ),
        );
        expect(ranges.map((range) => range.ids.length)).toEqual([10, 10, 5]);
        expect(ranges.flatMap((range) => range.ids)).toEqual(ids);
      });

      it('stops a walk after maxPages, saying where the rest starts, and walks on from there', async () => {
        const ids = (await Promise.all(Array.from({ length: 7 }, () => connect({ topics: ['r'] }))))
          .map((each) => each.connectionId)
          .sort();

        const first = await store.topicPages(tenant, 'r', { pageSize: 2, maxPages: 2 });
        const rest = await store.topicPages(tenant, 'r', {
          cursor: first.rest,
          pageSize: 2,
          maxPages: 10,
        });

        expect(first.pages).toHaveLength(2);
        expect(first.rest).toBeDefined();
        expect(rest.pages).toHaveLength(2);
        expect(rest.rest).toBeUndefined();
        const listed = await Promise.all(
          [...first.pages, ...rest.pages].map((range) =>
            store.listForTopic(tenant, 'r', { ...range, limit: 2 }),
          ),
        );
        expect(listed.flatMap((page) => page.items.map((ref) => ref.connectionId))).toEqual(ids);
      });

      it('refuses a walk of empty pages', async () => {
        await expect(
          store.topicPages(tenant, 'x', { pageSize: 0, maxPages: 1 }),
        ).rejects.toBeInstanceOf(RangeError);
      });
    });
  });
}
