import { describe, expect, it } from 'vitest';
import { connectionExpiresAt } from '#core/connections';
import { toAuthorizerContext } from '#core/identity';
import type { Identity } from '#core/model';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { makeHandler as makeConnectHandler } from '#handlers/connect';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeDirectory,
  webSocketEvent,
} from '#test/support/fakes';

const CONNECTED_AT = Date.parse('2026-11-23T12:00:00.000Z');

/** The real handler over the real presence core, on fakes. */
function makeHandler(
  deps: { connections: FakeConnectionStore; directory: FakeDirectory },
  delivery = new FakeDelivery(),
) {
  const presence = createPresence({
    connections: deps.connections,
    delivery,
    clock: new FakeClock(),
    settings: DEFAULT_PRESENCE_SETTINGS,
  });
  return makeConnectHandler({ presence, directory: deps.directory });
}

function connectEvent(identity: Identity, connectionId = 'conn-1') {
  return webSocketEvent({
    routeKey: '$connect',
    connectionId,
    connectedAt: CONNECTED_AT,
    authorizer: toAuthorizerContext(identity),
  });
}

describe('connect handler', () => {
  it('stores the connection with the identity the authorizer passed on', async () => {
    const store = new FakeConnectionStore();
    const directory = new FakeDirectory();
    const identity: Identity = {
      tenant: 'acme',
      userId: 'alice',
      topicPatterns: ['project.*', 'org.acme.>'],
      email: 'alice@example.com',
    };
    const response = await makeHandler({ connections: store, directory })(connectEvent(identity));
    expect(response).toEqual({ statusCode: 200 });
    expect(await store.get('conn-1')).toEqual({
      ...identity,
      connectionId: 'conn-1',
      connectedAt: CONNECTED_AT,
      topics: [],
    });
    expect(store.expiresAt.get('conn-1')).toBe(connectionExpiresAt(CONNECTED_AT));
    expect((await store.listForUser('acme', 'alice')).items).toEqual([
      { connectionId: 'conn-1', userId: 'alice' },
    ]);
  });

  it('remembers the email the token carries for email notifications', async () => {
    const store = new FakeConnectionStore();
    const directory = new FakeDirectory();
    await makeHandler({ connections: store, directory })(
      connectEvent({
        tenant: 'acme',
        userId: 'alice',
        topicPatterns: [],
        email: 'alice@example.com',
      }),
    );
    expect(await directory.emailOf('acme', 'alice')).toBe('alice@example.com');
  });

  it('remembers no email when the token carries none', async () => {
    const store = new FakeConnectionStore();
    const directory = new FakeDirectory();
    await makeHandler({ connections: store, directory })(
      connectEvent({ tenant: 'acme', userId: 'bob', topicPatterns: [] }),
    );
    expect(directory.emails.size).toBe(0);
    expect(await store.get('conn-1')).toMatchObject({ userId: 'bob', tenant: 'acme' });
  });

  it('refuses an event without an authorizer context and stores nothing', async () => {
    const store = new FakeConnectionStore();
    const directory = new FakeDirectory();
    const event = webSocketEvent({ routeKey: '$connect', connectionId: 'conn-1' });
    await expect(makeHandler({ connections: store, directory })(event)).rejects.toThrow();
    expect(store.connections.size).toBe(0);
  });

  it("tells the watchers of the user's presence topic when this is their first connection", async () => {
    const store = new FakeConnectionStore();
    const directory = new FakeDirectory();
    const delivery = new FakeDelivery();
    const watcher: Identity = { tenant: 'acme', userId: 'bob', topicPatterns: ['presence.*'] };
    await store.put(
      { ...watcher, connectionId: 'bob-1', connectedAt: 0, topics: ['presence.alice'] },
      0,
    );
    const alice: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: [] };
    const handler = makeHandler({ connections: store, directory }, delivery);

    expect(await handler(connectEvent(alice, 'alice-1'))).toEqual({ statusCode: 200 });
    expect(await handler(connectEvent(alice, 'alice-2'))).toEqual({ statusCode: 200 });
    expect(delivery.delivered('bob-1')).toEqual([
      { type: 'presence', user: 'alice', online: true },
    ]);
  });
});

describe('connect handler: connections per user', () => {
  it('accepts a connection past the cap and closes the oldest one', async () => {
    const connections = new FakeConnectionStore();
    const presence = createPresence({
      connections,
      delivery: new FakeDelivery(),
      clock: new FakeClock(),
      settings: DEFAULT_PRESENCE_SETTINGS,
    });
    const closed: string[] = [];
    const handler = makeConnectHandler({
      presence,
      directory: new FakeDirectory(),
      cap: {
        connections,
        disconnector: { disconnect: async (id) => void closed.push(id) },
        maxPerUser: 2,
      },
    });
    const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: [] };
    for (const [id, at] of [
      ['old', 1],
      ['mid', 2],
      ['new', 3],
    ] as const) {
      const event = webSocketEvent({
        routeKey: '$connect',
        connectionId: id,
        connectedAt: CONNECTED_AT + at,
        authorizer: toAuthorizerContext(identity),
      });
      expect(await handler(event)).toEqual({ statusCode: 200 });
    }
    expect(closed).toEqual(['old']);
    expect(await connections.get('old')).toBeUndefined();
    expect(await connections.get('new')).toBeDefined();
  });

  it('hands the fan-out a welcome for the new socket, and opens it even when that fails', async () => {
    const connections = new FakeConnectionStore();
    const presence = createPresence({
      connections,
      delivery: new FakeDelivery(),
      clock: new FakeClock(),
      settings: DEFAULT_PRESENCE_SETTINGS,
    });
    const welcomed: unknown[] = [];
    const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: [] };
    const welcoming = makeConnectHandler({
      presence,
      directory: new FakeDirectory(),
      welcomes: { enqueue: async (task) => void welcomed.push(task) },
    });
    expect(await welcoming(connectEvent(identity, 'conn-w'))).toEqual({ statusCode: 200 });
    expect(welcomed).toEqual([
      { tenant: 'acme', userId: 'alice', connectionId: 'conn-w', attempt: 0 },
    ]);
    const failing = makeConnectHandler({
      presence,
      directory: new FakeDirectory(),
      welcomes: {
        enqueue: async () => {
          throw new Error('queue unavailable');
        },
      },
    });
    expect(await failing(connectEvent(identity, 'conn-x'))).toEqual({ statusCode: 200 });
    expect(await connections.get('conn-x')).toBeDefined();
  });
});
