import { describe, expect, it } from 'vitest';
import {
  type BroadcastModel,
  modelBroadcast,
  type SplitInvocation,
  SQS_SCALING,
  splitBroadcast,
} from '#bench/broadcast-split';

const TIMINGS = { pageQueryMs: 30, walkMsPerThousandKeys: 5, sendMs: 10, sendBatchMs: 20 };

describe('splitBroadcast (the real splitting code)', () => {
  it('posts to every connection once, a page per invocation', async () => {
    const split = await splitBroadcast(2_500, 1_000, TIMINGS);
    expect(split.invocations.map((each) => each.connections)).toEqual([1_000, 1_000, 500]);
    expect(split).toMatchObject({
      continuations: 2,
      delivered: 2_500,
      duplicates: 0,
      queries: 3,
      // One walk of the 1,500 keys after the publish's own page, one batch to hand on both.
      walks: 1,
      walkedKeys: 1_500,
      sends: 1,
    });
  });

  it('makes no empty page when the audience is an exact multiple of the page size', async () => {
    const split = await splitBroadcast(2_000, 1_000, TIMINGS);
    expect(split.invocations.map((each) => each.connections)).toEqual([1_000, 1_000]);
    expect(split.queries).toBe(2);
  });

  it('hands 99 pages of 100,000 on from the publish, ten a batch, as the walk finds them', async () => {
    const split = await splitBroadcast(100_000, 1_000, TIMINGS);
    const [publish, ...pages] = split.invocations;

    expect(pages).toHaveLength(99);
    expect(pages.every((page) => page.parent === 0 && !page.afterPosting)).toBe(true);
    // Each walk reads one key past its ten pages, to know whether the topic goes on.
    expect(split).toMatchObject({ queries: 100, walks: 10, walkedKeys: 99_009, sends: 10 });
    // Each walk of ten pages (10,001 keys, 50 ms) is handed on at once (20 ms).
    const walk = (keys: number) => (keys / 1_000) * TIMINGS.walkMsPerThousandKeys;
    const walkAndBatch = walk(10_001) + TIMINGS.sendBatchMs;
    expect(pages[0]?.sentAtMs).toBeCloseTo(TIMINGS.pageQueryMs + walkAndBatch);
    expect(pages[98]?.sentAtMs).toBeCloseTo(
      TIMINGS.pageQueryMs + 9 * walkAndBatch + walk(9_000) + TIMINGS.sendBatchMs,
    );
    // The publish posts its own page once everything is handed on; a page task at once.
    expect(publish?.postsAtMs).toBeCloseTo(pages[98]?.sentAtMs ?? 0);
    expect(pages[0]?.postsAtMs).toBeCloseTo(TIMINGS.pageQueryMs);
  });

  it('hands the remainder of a topic longer than the walk on after posting', async () => {
    const split = await splitBroadcast(10_000, 1_000, TIMINGS, { walkPages: 4 });
    const remainders = split.invocations.filter((each) => each.afterPosting);

    expect(split.invocations).toHaveLength(10);
    expect(split.delivered).toBe(10_000);
    expect(split.duplicates).toBe(0);
    expect(remainders).toHaveLength(1);
    expect(remainders[0]).toMatchObject({ parent: 0, sentAtMs: TIMINGS.sendMs });
    expect(split.invocations[0]?.tailMs).toBe(TIMINGS.sendMs);
  });
});

const unlimited = { initialConcurrency: 1_000, concurrencyPerMinute: 0, batchSize: 1 };

/** A publish posting `own` connections at once, which hands on `pages` at `sentAtMs`. */
function split(own: number, pages: number[], sentAtMs = 0): SplitInvocation[] {
  const invocation = (connections: number, parent: number): SplitInvocation => ({
    parent,
    afterPosting: false,
    sentAtMs: parent < 0 ? 0 : sentAtMs,
    postsAtMs: 0,
    tailMs: 0,
    connections,
  });
  return [invocation(own, -1), ...pages.map((connections) => invocation(connections, 0))];
}

function model(overrides: Partial<BroadcastModel>): BroadcastModel {
  return {
    pickupMs: 0,
    invocationRate: 1_000,
    accountRate: 10_000,
    ...unlimited,
    ...overrides,
  };
}

describe('modelBroadcast', () => {
  it('takes connections ÷ rate for one invocation below the throttle', () => {
    const result = modelBroadcast(split(1_000, []), model({}));
    expect(result.seconds).toBeCloseTo(1, 2);
    expect(result.peakInvocations).toBe(1);
    expect(result.floorSeconds).toBeCloseTo(0.1, 5);
  });

  it('caps concurrent invocations at the account throttle', () => {
    const result = modelBroadcast(
      split(1_000, Array(9).fill(1_000)),
      model({ invocationRate: 5_000 }),
    );
    // 10,000 posts at 10,000/s.
    expect(result.seconds).toBeGreaterThanOrEqual(1);
    expect(result.seconds).toBeLessThan(1.01);
  });

  it('starts a page only once it is handed on and picked up', () => {
    const result = modelBroadcast(
      split(0, [1_000], 400),
      model({ pickupMs: 100, invocationRate: 10_000 }),
    );
    expect(result.lastReadySeconds).toBeCloseTo(0.5, 5);
    expect(result.seconds).toBeCloseTo(0.6, 2);
  });

  it('starts a remainder handed on after posting once its parent has posted', () => {
    const invocations = split(1_000, [1_000]);
    invocations[1] = { ...(invocations[1] as SplitInvocation), afterPosting: true, sentAtMs: 10 };
    const result = modelBroadcast(invocations, model({ pickupMs: 90 }));
    expect(result.lastReadySeconds).toBeCloseTo(1.1, 2);
    expect(result.seconds).toBeCloseTo(2.1, 2);
  });

  it('puts up to batchSize waiting tasks in one invocation, posting at its one rate', () => {
    const pages = split(0, Array(10).fill(1_000));
    expect(modelBroadcast(pages, model({ batchSize: 1 })).seconds).toBeCloseTo(1, 2);
    const batched = modelBroadcast(pages, model({ batchSize: 10 }));
    expect(batched.seconds).toBeCloseTo(10, 1);
    expect(batched.peakInvocations).toBe(1);
  });

  it('starts no more invocations than the event source allows', () => {
    const result = modelBroadcast(
      split(1_000, Array(19).fill(1_000)),
      model({ invocationRate: 100, accountRate: 1_000_000, ...SQS_SCALING, batchSize: 1 }),
    );
    expect(result.peakInvocations).toBeLessThanOrEqual(20);
    // Five at first, then five more a second: far slower than twenty at once (10 s).
    expect(result.seconds).toBeGreaterThan(11);
  });
});
