import { describe, expect, it } from 'vitest';
import { toConnection } from '../../../functions/core/connections';
import { toAuthorizerContext } from '../../../functions/core/identity';
import type { Identity } from '../../../functions/core/model';
import { makeHandler } from '../../../functions/handlers/disconnect';
import { FakeConnectionStore, webSocketEvent } from '../../support/fakes';

const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };

function disconnectEvent(connectionId: string) {
  return webSocketEvent({
    routeKey: '$disconnect',
    connectionId,
    authorizer: toAuthorizerContext(identity),
  });
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
});
