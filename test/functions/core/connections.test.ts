import { describe, expect, it } from 'vitest';
import {
  CONNECTION_TTL_MARGIN_SECONDS,
  closeOldestBeyond,
  connectionExpiresAt,
  isUserOnline,
  listAllForUser,
  MAX_CONNECTION_SECONDS,
  openConnection,
  toConnection,
} from '#core/connections';
import type { ConnectionRef, Identity, Page } from '#core/model';
import { FakeConnectionStore } from '#test/support/fakes';

const identity: Identity = {
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: ['project.*'],
  email: 'alice@example.com',
};
const CONNECTED_AT = Date.parse('2026-11-23T12:00:00.500Z');

describe('connectionExpiresAt', () => {
  it('is in epoch seconds, a margin after API Gateway’s two-hour maximum', () => {
    expect(MAX_CONNECTION_SECONDS).toBe(7200);
    expect(CONNECTION_TTL_MARGIN_SECONDS).toBeGreaterThan(0);
    expect(connectionExpiresAt(CONNECTED_AT)).toBe(
      Math.floor(CONNECTED_AT / 1000) + 7200 + CONNECTION_TTL_MARGIN_SECONDS,
    );
  });
});

describe('toConnection', () => {
  it('copies the identity and starts with no topics', () => {
    expect(toConnection(identity, 'c1', CONNECTED_AT)).toEqual({
      ...identity,
      connectionId: 'c1',
      connectedAt: CONNECTED_AT,
      topics: [],
    });
  });
});

describe('openConnection', () => {
  it('stores the connection under its user with the TTL', async () => {
    const store = new FakeConnectionStore();
    const connection = await openConnection(store, identity, 'c1', CONNECTED_AT);
    expect(await store.get('c1')).toEqual(connection);
    expect(store.expiresAt.get('c1')).toBe(connectionExpiresAt(CONNECTED_AT));
    expect((await store.listForUser('acme', 'alice')).items).toEqual([
      { connectionId: 'c1', userId: 'alice' },
    ]);
  });
});

describe('listing a user’s connections', () => {
  function paged(pages: Array<Page<ConnectionRef>>) {
    const asked: Array<string | undefined> = [];
    const store = {
      async listForUser(_tenant: string, _userId: string, cursor?: string) {
        asked.push(cursor);
        const page = pages[cursor === undefined ? 0 : Number(cursor)];
        if (page === undefined) throw new Error(`no page ${cursor}`);
        return page;
      },
    };
    return { store, asked };
  }
  const ref = (connectionId: string): ConnectionRef => ({ connectionId, userId: 'alice' });

  it('listAllForUser follows every page, empty ones too, and only that user’s', async () => {
    const store = new FakeConnectionStore();
    store.userPageSize = 2;
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) {
      await openConnection(store, identity, id, CONNECTED_AT);
    }
    await openConnection(store, { ...identity, userId: 'bob' }, 'b1', CONNECTED_AT);
    await openConnection(store, { ...identity, tenant: 'globex' }, 'g1', CONNECTED_AT);
    const all = await listAllForUser(store, 'acme', 'alice');
    expect(all.map((each) => each.connectionId)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);

    const { store: withGaps, asked } = paged([
      { items: [], cursor: '1' },
      { items: [ref('late')], cursor: '2' },
      { items: [] },
    ]);
    expect(await listAllForUser(withGaps, 'acme', 'alice')).toEqual([ref('late')]);
    expect(asked).toEqual([undefined, '1', '2']);
  });

  it('listAllForUser answers an empty list for a user without connections', async () => {
    expect(await listAllForUser(new FakeConnectionStore(), 'acme', 'nobody')).toEqual([]);
  });

  it('isUserOnline reads past empty pages, and no further than the first connection', async () => {
    const { store, asked } = paged([
      { items: [], cursor: '1' },
      { items: [ref('a1')], cursor: '2' },
      { items: [ref('a2')] },
    ]);
    expect(await isUserOnline(store, 'acme', 'alice')).toBe(true);
    expect(asked).toEqual([undefined, '1']);
  });

  it('isUserOnline counts no connection but the one excepted', async () => {
    const { store } = paged([{ items: [ref('a1')], cursor: '1' }, { items: [] }]);
    expect(await isUserOnline(store, 'acme', 'alice', { except: 'a1' })).toBe(false);
    expect(await isUserOnline(store, 'acme', 'alice', { except: 'other' })).toBe(true);
    expect(await isUserOnline(new FakeConnectionStore(), 'acme', 'alice')).toBe(false);
  });
});

describe('closeOldestBeyond', () => {
  async function holding(count: number) {
    const connections = new FakeConnectionStore();
    for (let i = 1; i <= count; i++) {
      await openConnection(connections, identity, `c${i}`, CONNECTED_AT + i * 1000);
    }
    // Someone else's connections never count.
    await openConnection(connections, { ...identity, userId: 'bob' }, 'b1', 0);
    await openConnection(connections, { ...identity, tenant: 'globex' }, 'g1', 0);
    const closed: string[] = [];
    const disconnector = { disconnect: async (id: string) => void closed.push(id) };
    return { deps: { connections, disconnector }, closed };
  }

  it('leaves a user at or under the cap alone', async () => {
    const { deps, closed } = await holding(3);
    expect(await closeOldestBeyond(deps, identity, 'c3', 3)).toEqual([]);
    expect(closed).toEqual([]);
  });

  it('closes and removes the oldest past the cap, never the new one', async () => {
    const { deps, closed } = await holding(4);
    // The newest may be any of them by id: "new" is what just connected.
    expect(await closeOldestBeyond(deps, identity, 'c1', 2)).toEqual(['c2', 'c3']);
    expect(closed).toEqual(['c2', 'c3']);
    const left = await listAllForUser(deps.connections, 'acme', 'alice');
    expect(left.map((ref) => ref.connectionId).sort()).toEqual(['c1', 'c4']);
    expect(await deps.connections.get('b1')).toBeDefined();
    expect(await deps.connections.get('g1')).toBeDefined();
  });
});
