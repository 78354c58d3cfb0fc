import { describe, expect, it } from 'vitest';
import { toConnection } from '#core/connections';
import { toAuthorizerContext } from '#core/identity';
import type { Identity } from '#core/model';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { makeHandler as makeDisconnectHandler } from '#handlers/disconnect';
import { FakeClock, FakeConnectionStore, FakeDelivery, webSocketEvent } from '#test/support/fakes';

const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };

function disconnectEvent(connectionId: string, withAuthorizer = true) {
  return webSocketEvent({
    routeKey: '$disconnect',
    connectionId,
    authorizer: withAuthorizer ? toAuthorizerContext(identity) : undefined,
  });
}

/** The real handler over the real presence core, on fakes. */
function makeHandler(deps: { connections: FakeConnectionStore }, delivery = new FakeDelivery()) {
  const presence = createPresence({
    connections: deps.connections,
    delivery,
    clock: new FakeClock(),
    settings: DEFAULT_PRESENCE_SETTINGS,
  });
  return makeDisconnectHandler({ presence });
}

async function watchedAlice() {
  const store = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  await store.put(
    {
      tenant: 'acme',
      userId: 'bob',
      topicPatterns: ['presence.*'],
      connectionId: 'bob-1',
      connectedAt: 0,
      topics: ['presence.alice'],
    },
    0,
  );
  await store.put(toConnection(identity, 'conn-1', 0), 0);
  await store.put(toConnection(identity, 'conn-2', 0), 0);
  return { store, delivery, handler: makeHandler({ connections: store }, delivery) };
}

describe('disconnect handler', () => {
  it('removes the connection, and only it', async () => {
    const store = new FakeConnectionStore();
    await store.put(toConnection(identity, 'conn-1', 0), 0);
    await store.put(toConnection(identity, 'conn-2', 0), 0);
    const response = await makeHandler({ connections: store })(disconnectEvent('conn-1'));
    expect(response).toEqual({ statusCode: 200 });
    expect(store.removed).toEqual(['conn-1']);
    expect(await store.get('conn-1')).toBeUndefined();
    expect((await store.listForUser('acme', 'alice')).items).toEqual([
      { connectionId: 'conn-2', userId: 'alice' },
    ]);
  });

  it('answers 200 for a connection already gone', async () => {
    const store = new FakeConnectionStore();
    expect(await makeHandler({ connections: store })(disconnectEvent('unknown'))).toEqual({
      statusCode: 200,
    });
  });

  it("tells the user's watchers when their last connection closed", async () => {
    const { delivery, handler } = await watchedAlice();
    await handler(disconnectEvent('conn-1'));
    expect(delivery.posts).toEqual([]);
    expect(await handler(disconnectEvent('conn-2'))).toEqual({ statusCode: 200 });
    expect(delivery.delivered('bob-1')).toEqual([
      { type: 'presence', user: 'alice', online: false },
    ]);
  });

  it('still removes the connection when the event carries no authorizer context', async () => {
    const { store, delivery, handler } = await watchedAlice();
    expect(await handler(disconnectEvent('conn-1', false))).toEqual({ statusCode: 200 });
    expect(await handler(disconnectEvent('conn-2', false))).toEqual({ statusCode: 200 });
    expect(store.removed).toEqual(['conn-1', 'conn-2']);
    expect(delivery.posts).toEqual([]);
  });
});
