import { describe, expect, it } from 'vitest';
import { modelBroadcast, SQS_SCALING, splitBroadcast } from '../../bench/broadcast-split';

describe('splitBroadcast (the real splitting code)', () => {
  it('posts to every connection once, a page per invocation', async () => {
    const split = await splitBroadcast(2_500, 1_000);
    expect(split.pages).toEqual([1_000, 1_000, 500]);
    expect(split.continuations).toBe(2);
    expect(split.delivered).toBe(2_500);
    expect(split.duplicates).toBe(0);
    expect(split.queries).toBe(3);
  });

  it('hands on an empty page when the audience is an exact multiple of the page size', async () => {
    const split = await splitBroadcast(2_000, 1_000);
    expect(split.pages).toEqual([1_000, 1_000, 0]);
    expect(split.delivered).toBe(2_000);
  });
});

const unlimited = { initialConcurrency: 1_000, concurrencyPerMinute: 0 };

describe('modelBroadcast', () => {
  it('takes connections ÷ rate for one invocation below the throttle', () => {
    const result = modelBroadcast([1_000], {
      handOnMs: 10,
      pickupMs: 10,
      invocationRate: 1_000,
      accountRate: 10_000,
      ...unlimited,
    });
    expect(result.seconds).toBeCloseTo(1, 2);
    expect(result.peakInvocations).toBe(1);
    expect(result.floorSeconds).toBeCloseTo(0.1, 5);
  });

  it('caps concurrent invocations at the account throttle', () => {
    const result = modelBroadcast(Array(10).fill(1_000), {
      handOnMs: 0.5,
      pickupMs: 0.5,
      invocationRate: 5_000,
      accountRate: 10_000,
      ...unlimited,
    });
    // 10,000 posts at 10,000/s, give or take the 10 ms the invocations take to start.
    expect(result.seconds).toBeGreaterThanOrEqual(1);
    expect(result.seconds).toBeLessThan(1.1);
  });

  it('is bounded below by the chain of hand-ons', () => {
    const result = modelBroadcast(Array(11).fill(10), {
      handOnMs: 50,
      pickupMs: 50,
      invocationRate: 10_000,
      accountRate: 10_000,
      ...unlimited,
    });
    expect(result.seconds).toBeGreaterThanOrEqual(1);
    expect(result.seconds).toBeLessThan(1.01);
  });

  it('starts no more invocations than the event source allows', () => {
    const result = modelBroadcast(Array(20).fill(1_000), {
      handOnMs: 1,
      pickupMs: 0,
      invocationRate: 100,
      accountRate: 1_000_000,
      ...SQS_SCALING,
    });
    expect(result.peakInvocations).toBeLessThanOrEqual(20);
    // Five at first, then five more a second: far slower than twenty at once (10 s).
    expect(result.seconds).toBeGreaterThan(11);
  });
});
