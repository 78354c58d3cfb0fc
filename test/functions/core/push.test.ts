import { describe, expect, it } from 'vitest';
import { RetryableError } from '#core/errors';
import { createLimiter } from '#core/limiter';
import type { Connection } from '#core/model';
import { createPusher, type PusherDeps } from '#core/push';
import { FakeClock, FakeConnectionStore, FakeDelivery } from '#test/support/fakes';

function connection(connectionId: string, userId: string, tenant = 'acme'): Connection {
  return { connectionId, userId, tenant, topicPatterns: [], topics: [], connectedAt: 0 };
}

function setup(overrides: Partial<PusherDeps> = {}) {
  const connections = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  const clock = new FakeClock();
  const pusher = createPusher({
    connections,
    delivery,
    clock,
    limiter: createLimiter(4),
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 100 },
    random: () => 0.5,
    pruneConcurrency: 2,
    ...overrides,
  });
  const online = async (...all: Connection[]) => {
    for (const each of all) await connections.put(each, 0);
  };
  return { connections, delivery, clock, pusher, online };
}

const refs = (...ids: string[]) => ids.map((connectionId) => ({ connectionId, userId: 'alice' }));
const ids = (list: Array<{ connectionId: string }>) => list.map((c) => c.connectionId).sort();

describe('push', () => {
  it('posts the frame to each connection, prunes the gone ones and returns the still failing', async () => {
    const { pusher, delivery, connections, online } = setup();
    await online(
      connection('a1', 'alice'),
      connection('gone', 'alice'),
      connection('slow', 'alice'),
    );
    delivery.behaviour = (id) =>
      id === 'gone' ? 'gone' : id === 'slow' ? new RetryableError('429') : 'ok';

    const outcome = await pusher.push(refs('a1', 'gone', 'slow'), '{"type":"x"}');

    expect(ids(outcome.delivered)).toEqual(['a1']);
    expect(ids(outcome.failed)).toEqual(['slow']);
    expect(outcome).toMatchObject({ pruned: 1, problems: [] });
    expect(connections.removed).toEqual(['gone']);
    expect(delivery.attemptsOf('slow')).toBe(2);
    expect(delivery.attemptsOf('gone')).toBe(1);
  });

  it('reports a removal that failed as a problem, and still pushes to the rest', async () => {
    const { pusher, delivery, connections } = setup();
    delivery.behaviour = (id) => (id.startsWith('gone') ? 'gone' : 'ok');
    const failure = new Error('DynamoDB throttled');
    const remove = connections.remove.bind(connections);
    connections.remove = async (connectionId) => {
      if (connectionId === 'gone-2') throw failure;
      await remove(connectionId);
    };

    const outcome = await pusher.push(refs('a1', 'gone-1', 'gone-2'), 'f');

    expect(ids(outcome.delivered)).toEqual(['a1']);
    expect(outcome.pruned).toBe(1);
    expect(outcome.problems).toEqual([{ what: 'prune gone-2', error: failure }]);
  });

  it('keeps the posts in flight within the limiter and the removals within pruneConcurrency', async () => {
    const delivery = new FakeDelivery(2);
    const { pusher, connections } = setup({ delivery, limiter: createLimiter(3) });
    delivery.behaviour = (id) => (id.startsWith('gone') ? 'gone' : 'ok');
    let removing = 0;
    let most = 0;
    connections.remove = async () => {
      removing++;
      most = Math.max(most, removing);
      await new Promise((resolve) => setTimeout(resolve, 2));
      removing--;
    };
    const all = Array.from({ length: 12 }, (_, i) => (i % 2 ? `gone-${i}` : `live-${i}`));

    const outcome = await pusher.push(refs(...all), 'f');

    expect(outcome.delivered).toHaveLength(6);
    expect(outcome.pruned).toBe(6);
    expect(delivery.maxInFlight).toBe(3);
    expect(most).toBe(2);
  });
});

describe('post and prune apart', () => {
  it('posts without pruning, so a caller can prune after its last page', async () => {
    const { pusher, delivery, connections } = setup();
    delivery.behaviour = (id) => (id === 'gone' ? 'gone' : 'ok');
    const result = await pusher.post(refs('a1', 'gone'), 'f');
    expect(result.gone).toEqual(refs('gone'));
    expect(connections.removed).toEqual([]);
    expect(await pusher.prune(result.gone)).toEqual({ pruned: 1, closed: 0, problems: [] });
    expect(connections.removed).toEqual(['gone']);
  });
});

describe('pushToUser', () => {
  it('reaches every live connection of the user across pages, and nobody else', async () => {
    const { pusher, delivery, connections, online } = setup();
    connections.userPageSize = 2;
    await online(
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => connection(id, 'alice')),
      connection('b1', 'bob'),
      connection('g1', 'alice', 'globex'),
    );

    const outcome = await pusher.pushToUser('acme', 'alice', '{"type":"state","unread":1}');

    expect(ids(outcome.delivered)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(delivery.delivered('a3')).toEqual([{ type: 'state', unread: 1 }]);
    expect(delivery.delivered('b1')).toEqual([]);
    expect(delivery.delivered('g1')).toEqual([]);
  });

  it('prunes the user’s gone connections', async () => {
    const { pusher, delivery, connections, online } = setup();
    await online(connection('a1', 'alice'), connection('a2', 'alice'));
    delivery.behaviour = (id) => (id === 'a2' ? 'gone' : 'ok');
    const outcome = await pusher.pushToUser('acme', 'alice', 'f');
    expect(outcome).toMatchObject({ pruned: 1, failed: [], problems: [] });
    expect([...connections.connections.keys()]).toEqual(['a1']);
  });

  it('posts nothing to a user without connections', async () => {
    const { pusher, delivery } = setup();
    expect(await pusher.pushToUser('acme', 'nobody', 'f')).toEqual({
      delivered: [],
      failed: [],
      pruned: 0,
      closed: 0,
      problems: [],
    });
    expect(delivery.posts).toEqual([]);
  });
});

describe('connections whose token expired', () => {
  const nowSeconds = () => Math.floor(new FakeClock().now() / 1000);
  const expiring = (id: string, tokenExpiresAt: number): Connection => ({
    ...connection(id, 'alice'),
    tokenExpiresAt,
  });

  it('are not posted to: they are closed and removed, the others served', async () => {
    const closed: string[] = [];
    const { pusher, delivery, connections, online } = setup({
      disconnector: { disconnect: async (id) => void closed.push(id) },
    });
    await online(expiring('old', nowSeconds() - 1), expiring('fresh', nowSeconds() + 60));
    const outcome = await pusher.pushToUser('acme', 'alice', 'f');
    expect(ids(outcome.delivered)).toEqual(['fresh']);
    expect(delivery.posts.map((post) => post.connectionId)).toEqual(['fresh']);
    expect(outcome).toMatchObject({ closed: 1, pruned: 0 });
    expect(closed).toEqual(['old']);
    expect([...connections.connections.keys()]).toEqual(['fresh']);
  });

  it('are served when a refresh moved the expiry on since the listing entry was written', async () => {
    const { pusher, delivery, connections, online } = setup();
    await online(expiring('refreshed', nowSeconds() - 1));
    const listed = await connections.listForUser('acme', 'alice');
    await connections.extend('refreshed', nowSeconds() + 600);
    const outcome = await pusher.push(listed.items, 'f');
    expect(ids(outcome.delivered)).toEqual(['refreshed']);
    expect(delivery.posts).toHaveLength(1);
    expect(outcome.closed).toBe(0);
  });

  it('are kept for the sweep when they cannot be closed', async () => {
    const { pusher, connections, online } = setup({
      disconnector: {
        disconnect: async () => {
          throw new RetryableError('management API throttled');
        },
      },
    });
    await online(expiring('old', nowSeconds() - 1));
    const outcome = await pusher.pushToUser('acme', 'alice', 'f');
    expect(outcome.problems.map((problem) => problem.what)).toEqual(['close old']);
    expect(connections.connections.has('old')).toBe(true);
  });
});
