import { describe, expect, it } from 'vitest';
import { toConnection } from '#core/connections';
import type { Identity } from '#core/model';
import { createPresence, DEFAULT_PRESENCE_SETTINGS, type PresenceSettings } from '#core/presence';
import { presenceTopic } from '#core/topics';
import { FakeClock, FakeConnectionStore, FakeDelivery } from '#test/support/fakes';

const CONNECTED_AT = Date.parse('2026-11-23T12:00:00Z');
const alice: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: [] };

function identity(userId: string, tenant = 'acme'): Identity {
  return { tenant, userId, topicPatterns: ['presence.*'] };
}

function setup(settings: Partial<PresenceSettings> = {}) {
  const connections = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  const presence = createPresence({
    connections,
    delivery,
    clock: new FakeClock(),
    settings: { ...DEFAULT_PRESENCE_SETTINGS, ...settings },
    random: () => 0,
  });
  const userLookups: string[] = [];
  const listForUser = connections.listForUser.bind(connections);
  connections.listForUser = (tenant, userId, cursor) => {
    userLookups.push(`${tenant}/${userId}`);
    return listForUser(tenant, userId, cursor);
  };
  /** A live connection, subscribed to `topics`. */
  const open = (who: Identity, connectionId: string, topics: string[] = []) =>
    connections.put({ ...toConnection(who, connectionId, CONNECTED_AT), topics }, 0);
  const watch = (connectionId: string, userId: string, tenant = 'acme') =>
    open(identity(`watcher-of-${userId}`, tenant), connectionId, [`presence.${userId}`]);
  return { connections, delivery, presence, open, watch, userLookups };
}

describe('presenceTopic', () => {
  it.each([
    ['alice', 'presence.alice'],
    ['bob_1-X', 'presence.bob_1-X'],
    ['a'.repeat(247), `presence.${'a'.repeat(247)}`],
  ])('maps the user id %s to its topic', (userId, topic) => {
    expect(presenceTopic(userId)).toBe(topic);
  });

  it.each([
    ['a dot', 'alice.smith'],
    ['an address', 'alice@example.com'],
    ['a space', 'alice smith'],
    ['a wildcard', '*'],
    ['too long for a topic', 'a'.repeat(248)],
  ])('gives a user id with %s no topic', (_what, userId) => {
    expect(presenceTopic(userId)).toBeUndefined();
  });
});

describe('query', () => {
  it('says who of the asked users holds a live connection in the tenant', async () => {
    const { presence, open } = setup();
    await open(alice, 'a1');
    await open(alice, 'a2');
    await open(identity('bob', 'globex'), 'b1');
    await open(identity('alice.smith@example.com'), 'c1');
    expect(
      await presence.query('acme', ['alice', 'bob', 'alice', 'alice.smith@example.com']),
    ).toEqual({ alice: true, bob: false, 'alice.smith@example.com': true });
  });

  it('keeps a user called __proto__ as a plain key', async () => {
    const { presence, open } = setup();
    await open(identity('__proto__'), 'p1');
    const online = await presence.query('acme', ['__proto__', 'constructor']);
    expect(Object.keys(online)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(online))).toEqual(
      JSON.parse('{"__proto__":true,"constructor":false}'),
    );
  });

  it('reads past an empty first page (expired items) before saying offline', async () => {
    const { presence, connections } = setup();
    connections.listForUser = async (_tenant, _userId, cursor) =>
      cursor === undefined
        ? { items: [], cursor: 'next' }
        : { items: [{ connectionId: 'late', userId: 'alice' }] };
    expect(await presence.query('acme', ['alice'])).toEqual({ alice: true });
  });
});

describe('connect', () => {
  it("stores the connection and tells the user's watchers they came online", async () => {
    const { presence, connections, delivery, watch } = setup();
    await watch('w1', 'alice');
    await watch('w2', 'alice');
    await watch('w-other', 'bob');
    await watch('w-globex', 'alice', 'globex');

    const report = await presence.connect(alice, 'a1', CONNECTED_AT);
    expect(await connections.get('a1')).toMatchObject({ userId: 'alice', tenant: 'acme' });
    expect(report).toMatchObject({ announced: true, delivered: 2, problems: [] });
    const frame = { type: 'presence', user: 'alice', online: true };
    expect(delivery.delivered('w1')).toEqual([frame]);
    expect(delivery.delivered('w2')).toEqual([frame]);
    expect(delivery.posts.map((post) => post.connectionId).sort()).toEqual(['w1', 'w2']);
  });

  it('says nothing when the user was already online', async () => {
    const { presence, delivery, watch, open } = setup();
    await watch('w1', 'alice');
    await open(alice, 'a1');
    const report = await presence.connect(alice, 'a2', CONNECTED_AT);
    expect(report.announced).toBe(false);
    expect(delivery.posts).toEqual([]);
  });

  it('costs no connection lookup for a user nobody watches, or who cannot be watched', async () => {
    const { presence, connections, delivery, userLookups } = setup();
    expect((await presence.connect(alice, 'a1', CONNECTED_AT)).announced).toBe(false);
    const dotted = identity('alice.smith');
    expect((await presence.connect(dotted, 'd1', CONNECTED_AT)).announced).toBe(false);
    expect(userLookups).toEqual([]);
    expect(delivery.posts).toEqual([]);
    expect(await connections.get('d1')).toBeDefined();
  });

  it('reaches every watcher across pages and prunes the gone ones', async () => {
    const { presence, connections, delivery, watch } = setup({ pageSize: 2 });
    for (const id of ['w1', 'w2', 'w3', 'w4', 'w5']) await watch(id, 'alice');
    delivery.behaviour = (connectionId) => (connectionId === 'w4' ? 'gone' : 'ok');
    const report = await presence.connect(alice, 'a1', CONNECTED_AT);
    expect(report).toMatchObject({ announced: true, delivered: 4, pruned: 1, failed: 0 });
    expect(connections.removed).toEqual(['w4']);
  });

  it('looks past an empty first page of watchers (expired items) before giving up', async () => {
    const { presence, connections, delivery } = setup();
    connections.listForTopic = async (_tenant, _topic, page) =>
      page.cursor === undefined
        ? { items: [], cursor: 'next' }
        : { items: [{ connectionId: 'w-late', userId: 'bob' }] };
    expect((await presence.connect(alice, 'a1', CONNECTED_AT)).announced).toBe(true);
    expect(delivery.delivered('w-late')).toEqual([
      { type: 'presence', user: 'alice', online: true },
    ]);
  });

  it('still connects the user when the presence lookup fails', async () => {
    const { presence, connections, watch } = setup();
    await watch('w1', 'alice');
    const failure = new Error('DynamoDB throttled');
    connections.listForTopic = async () => {
      throw failure;
    };
    const report = await presence.connect(alice, 'a1', CONNECTED_AT);
    expect(report.announced).toBe(false);
    expect(report.problems).toEqual([{ what: 'presence lookup', error: failure }]);
    expect(await connections.get('a1')).toBeDefined();
  });

  it('fails the connect when the connection cannot be stored', async () => {
    const { presence, connections } = setup();
    connections.put = async () => {
      throw new Error('DynamoDB down');
    };
    await expect(presence.connect(alice, 'a1', CONNECTED_AT)).rejects.toThrow('DynamoDB down');
  });
});

describe('disconnect', () => {
  it('removes the connection and tells the watchers when it was the last', async () => {
    const { presence, connections, delivery, watch, open } = setup();
    await watch('w1', 'alice');
    await open(alice, 'a1');
    await open(alice, 'a2');

    expect((await presence.disconnect('a1', alice)).announced).toBe(false);
    expect(delivery.posts).toEqual([]);
    const report = await presence.disconnect('a2', alice);
    expect(report).toMatchObject({ announced: true, delivered: 1 });
    expect(delivery.delivered('w1')).toEqual([{ type: 'presence', user: 'alice', online: false }]);
    expect(connections.removed).toEqual(['a1', 'a2']);
  });

  it('still removes the connection without an identity, and announces nothing', async () => {
    const { presence, connections, delivery, watch, open } = setup();
    await watch('w1', 'alice');
    await open(alice, 'a1');
    expect((await presence.disconnect('a1', undefined)).announced).toBe(false);
    expect(connections.removed).toEqual(['a1']);
    expect(delivery.posts).toEqual([]);
  });

  it('reports, and does not throw, when telling the watchers fails', async () => {
    const { presence, connections, watch, open } = setup();
    await watch('w1', 'alice');
    await open(alice, 'a1');
    connections.listForTopic = async () => {
      throw new Error('DynamoDB throttled');
    };
    const report = await presence.disconnect('a1', alice);
    expect(report.announced).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(connections.removed).toEqual(['a1']);
  });
});
