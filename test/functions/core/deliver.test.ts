import { describe, expect, it, vi } from 'vitest';
import { type DeliverDeps, deliverFrame, type RetryPolicy } from '#core/deliver';
import { RetryableError } from '#core/errors';
import { createLimiter } from '#core/limiter';
import type { ConnectionRef } from '#core/model';
import { FakeClock, FakeDelivery } from '#test/support/fakes';

const RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 };

function refs(...ids: string[]): ConnectionRef[] {
  return ids.map((connectionId) => ({ connectionId, userId: `user-of-${connectionId}` }));
}

type Overrides = Partial<Omit<DeliverDeps, 'delivery' | 'clock'>> & { clock?: FakeClock };

function deps(delivery: FakeDelivery, overrides: Overrides = {}) {
  const clock = overrides.clock ?? new FakeClock();
  return {
    limiter: createLimiter(10),
    retry: RETRY,
    random: () => 0.5,
    ...overrides,
    delivery,
    clock,
  } satisfies DeliverDeps;
}

const ids = (connections: ConnectionRef[]) => connections.map((c) => c.connectionId).sort();

describe('deliverFrame', () => {
  it('posts the frame once to every connection', async () => {
    const delivery = new FakeDelivery();
    const result = await deliverFrame(refs('a', 'b', 'c'), '{"type":"x"}', deps(delivery));
    expect(ids(result.delivered)).toEqual(['a', 'b', 'c']);
    expect(result.gone).toEqual([]);
    expect(result.failed).toEqual([]);
    expect(delivery.posts).toEqual([
      { connectionId: 'a', data: '{"type":"x"}' },
      { connectionId: 'b', data: '{"type":"x"}' },
      { connectionId: 'c', data: '{"type":"x"}' },
    ]);
  });

  it('reports a 410 connection as gone without trying it again', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = (id) => (id === 'stale' ? 'gone' : 'ok');
    const d = deps(delivery);
    const result = await deliverFrame(refs('live', 'stale'), 'f', d);
    expect(result.gone).toEqual(refs('stale'));
    expect(ids(result.delivered)).toEqual(['live']);
    expect(result.failed).toEqual([]);
    expect(delivery.attemptsOf('stale')).toBe(1);
    expect(d.clock.sleeps).toEqual([]);
  });

  it('retries a retryable failure and delivers when it clears', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = (_id, attempt) => (attempt < 3 ? new RetryableError('throttled') : 'ok');
    const d = deps(delivery);
    const result = await deliverFrame(refs('a'), 'f', d);
    expect(result.delivered).toEqual(refs('a'));
    expect(delivery.attemptsOf('a')).toBe(3);
    expect(d.clock.sleeps).toHaveLength(2);
  });

  it('gives up after `attempts` tries with sleeps below the backoff ceiling', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = () => new RetryableError('throttled');
    const retry: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 500 };
    // Just under 1: each sleep sits at the top of its jitter range.
    const d = deps(delivery, { retry, random: () => 0.999 });
    const result = await deliverFrame(refs('a'), 'f', d);
    expect(result.failed).toEqual(refs('a'));
    expect(result.delivered).toEqual([]);
    expect(delivery.attemptsOf('a')).toBe(5);
    // Ceilings: min(500, 100 * 2^n) for n = 1..4 -> 200, 400, 500, 500.
    expect(d.clock.sleeps).toEqual([199, 399, 499, 499]);
  });

  it('draws each sleep from zero up to the ceiling (full jitter)', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = () => new RetryableError('throttled');
    const draws = [0, 0.25];
    const d = deps(delivery, { random: () => draws.shift() ?? 0 });
    await deliverFrame(refs('a'), 'f', d);
    // attempts 3: two sleeps, ceilings 100 and 200.
    expect(d.clock.sleeps).toEqual([0, 50]);
  });

  it('fails a non-retryable error at once', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = (id) => (id === 'bad' ? new Error('403 Forbidden') : 'ok');
    const d = deps(delivery);
    const result = await deliverFrame(refs('bad', 'good'), 'f', d);
    expect(result.failed).toEqual(refs('bad'));
    expect(result.delivered).toEqual(refs('good'));
    expect(delivery.attemptsOf('bad')).toBe(1);
    expect(d.clock.sleeps).toEqual([]);
  });

  it('keeps at most the limiter bound in flight', async () => {
    const delivery = new FakeDelivery(2);
    const connections = refs(...Array.from({ length: 25 }, (_, i) => `c${i}`));
    const result = await deliverFrame(
      connections,
      'f',
      deps(delivery, { limiter: createLimiter(4) }),
    );
    expect(result.delivered).toHaveLength(25);
    expect(delivery.maxInFlight).toBe(4);
  });

  it('shares the bound with other deliveries on the same limiter', async () => {
    const delivery = new FakeDelivery(2);
    const shared = deps(delivery, { limiter: createLimiter(3) });
    const batch = (prefix: string) => refs(...Array.from({ length: 6 }, (_, i) => `${prefix}${i}`));
    await Promise.all([
      deliverFrame(batch('a'), 'f', shared),
      deliverFrame(batch('b'), 'f', shared),
    ]);
    expect(delivery.posts).toHaveLength(12);
    expect(delivery.maxInFlight).toBe(3);
  });

  it('sleeps outside the limiter, so a waiting retry holds no slot', async () => {
    const delivery = new FakeDelivery();
    delivery.behaviour = (id, attempt) =>
      id === 'slow' && attempt === 1 ? new RetryableError('throttled') : 'ok';
    let releaseSleep: () => void = () => undefined;
    const clock = new FakeClock();
    clock.sleep = (ms) => {
      clock.sleeps.push(ms);
      return new Promise((resolve) => {
        releaseSleep = resolve;
      });
    };
    const d = deps(delivery, { clock, limiter: createLimiter(1) });
    const run = deliverFrame(refs('slow', 'other'), 'f', d);
    // While 'slow' sleeps before its retry, 'other' gets the only slot.
    await vi.waitFor(() => expect(delivery.posts.map((p) => p.connectionId)).toEqual(['other']));
    expect(clock.sleeps).toHaveLength(1);
    releaseSleep();
    const result = await run;
    expect(ids(result.delivered)).toEqual(['other', 'slow']);
  });

  it('returns empty lists for no connections', async () => {
    const delivery = new FakeDelivery();
    expect(await deliverFrame([], 'f', deps(delivery))).toEqual({
      delivered: [],
      gone: [],
      failed: [],
    });
    expect(delivery.posts).toEqual([]);
  });
});
