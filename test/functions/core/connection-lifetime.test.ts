import { describe, expect, it } from 'vitest';
import { cutOffUser, sweepExpiredConnections } from '#core/connection-lifetime';
import type { Connection } from '#core/model';
import type { Disconnector } from '#core/ports';
import { FakeClock, FakeConnectionStore } from '#test/support/fakes';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const nowSeconds = NOW / 1000;

function connection(connectionId: string, userId: string, tokenExpiresAt?: number): Connection {
  const base = { connectionId, userId, tenant: 'acme', topicPatterns: [], topics: [] };
  return tokenExpiresAt === undefined
    ? { ...base, connectedAt: 0 }
    : { ...base, connectedAt: 0, tokenExpiresAt };
}

class RecordingDisconnector implements Disconnector {
  readonly closed: string[] = [];
  failing = new Set<string>();
  async disconnect(connectionId: string): Promise<void> {
    if (this.failing.has(connectionId)) throw new Error('management API down');
    this.closed.push(connectionId);
  }
}

async function setup(...connections: Connection[]) {
  const store = new FakeConnectionStore();
  for (const each of connections) await store.put(each, 0);
  const disconnector = new RecordingDisconnector();
  const deps = {
    connections: store,
    lifetimes: store,
    disconnector,
    clock: new FakeClock(NOW),
    lookbackMinutes: 10,
    concurrency: 2,
  };
  return { store, disconnector, deps };
}

describe('sweepExpiredConnections', () => {
  it('closes and removes the connections whose token has expired, and only those', async () => {
    const { store, disconnector, deps } = await setup(
      connection('past', 'alice', nowSeconds - 30),
      connection('now', 'alice', nowSeconds),
      connection('soon', 'alice', nowSeconds + 1),
      connection('later', 'bob', nowSeconds + 3600),
      connection('no-expiry', 'bob'),
    );
    const report = await sweepExpiredConnections(deps);
    expect(report.closed.sort()).toEqual(['now', 'past']);
    expect(disconnector.closed.sort()).toEqual(['now', 'past']);
    expect([...store.connections.keys()].sort()).toEqual(['later', 'no-expiry', 'soon']);
  });

  it('reaches back `lookbackMinutes` and no further', async () => {
    const { deps } = await setup(
      connection('nine-minutes', 'alice', nowSeconds - 9 * 60),
      connection('an-hour', 'alice', nowSeconds - 3600),
    );
    expect((await sweepExpiredConnections(deps)).closed).toEqual(['nine-minutes']);
  });

  it('leaves a connection whose refresh moved its expiry on', async () => {
    const { store, deps } = await setup(connection('refreshed', 'alice', nowSeconds - 5));
    // A listing that still names the old minute: the connection entry is what counts.
    const stale = store.expiringIn.bind(store);
    store.expiringIn = async (minute, cursor) =>
      minute === Math.floor((nowSeconds - 5) / 60)
        ? {
            items: [
              {
                connectionId: 'refreshed',
                tenant: 'acme',
                userId: 'alice',
                tokenExpiresAt: nowSeconds - 5,
              },
            ],
          }
        : stale(minute, cursor);
    await store.extend('refreshed', nowSeconds + 600);
    expect((await sweepExpiredConnections(deps)).closed).toEqual([]);
    expect(store.connections.has('refreshed')).toBe(true);
  });

  it('keeps the record of a connection it could not close, for the next sweep', async () => {
    const { store, disconnector, deps } = await setup(connection('stuck', 'alice', nowSeconds - 1));
    disconnector.failing.add('stuck');
    const report = await sweepExpiredConnections(deps);
    expect(report.closed).toEqual([]);
    expect(report.problems.map((problem) => problem.what)).toEqual(['close stuck']);
    expect(store.connections.has('stuck')).toBe(true);
  });
});

describe('cutOffUser', () => {
  it("closes every connection of the user and nobody else's", async () => {
    const { store, disconnector, deps } = await setup(
      connection('a1', 'alice', nowSeconds + 600),
      connection('a2', 'alice'),
      connection('b1', 'bob', nowSeconds + 600),
    );
    const report = await cutOffUser(deps, 'acme', 'alice');
    expect(report.closed.sort()).toEqual(['a1', 'a2']);
    expect(disconnector.closed.sort()).toEqual(['a1', 'a2']);
    expect([...store.connections.keys()]).toEqual(['b1']);
  });

  it('closes nothing for a user of another tenant with the same id', async () => {
    const { deps } = await setup(connection('a1', 'alice'));
    expect((await cutOffUser(deps, 'other', 'alice')).closed).toEqual([]);
  });
});
