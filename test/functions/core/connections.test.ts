import { describe, expect, it } from 'vitest';
import {
  CONNECTION_TTL_MARGIN_SECONDS,
  connectionExpiresAt,
  MAX_CONNECTION_SECONDS,
  openConnection,
  toConnection,
} from '#core/connections';
import type { Identity } from '#core/model';
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
