import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLimiter, mapLimited } from '#core/limiter';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Counts tasks in flight and remembers the highest count seen. */
function gauge() {
  const state = { active: 0, max: 0, started: 0 };
  return {
    state,
    track<T>(work: () => Promise<T>): () => Promise<T> {
      return async () => {
        state.active++;
        state.started++;
        state.max = Math.max(state.max, state.active);
        try {
          return await work();
        } finally {
          state.active--;
        }
      };
    },
  };
}

describe('createLimiter', () => {
  it('refuses a limit below 1 or not an integer', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
    expect(() => createLimiter(1.5)).toThrow(RangeError);
  });

  it('runs at most N at once and starts the next as soon as one finishes', async () => {
    const limiter = createLimiter(2);
    const { state, track } = gauge();
    const gates = Array.from({ length: 5 }, deferred);
    const runs = gates.map((gate) => limiter.run(track(() => gate.promise)));
    await settle();
    expect(state.started).toBe(2);
    gates[0]?.resolve();
    await settle();
    expect(state.started).toBe(3);
    expect(state.active).toBe(2);
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(state.max).toBe(2);
    expect(state.started).toBe(5);
  });

  it('starts thousands of waiting tasks in arrival order, emptying and refilling its queue', async () => {
    const limiter = createLimiter(3);
    const { state, track } = gauge();
    const started: number[] = [];
    const batch = (from: number) =>
      Array.from({ length: 5_000 }, (_, i) =>
        limiter.run(
          track(async () => {
            started.push(from + i);
            await Promise.resolve();
          }),
        ),
      );
    await Promise.all(batch(0));
    await Promise.all(batch(5_000));
    expect(started).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(state.max).toBe(3);
    expect(state.active).toBe(0);
  });

  it('keeps the bound when tasks finish while new ones arrive in the same tick', async () => {
    const limiter = createLimiter(3);
    const { state, track } = gauge();
    const gates: Deferred[] = [];
    const runs: Promise<void>[] = [];
    const start = () => {
      const gate = deferred();
      gates.push(gate);
      runs.push(limiter.run(track(() => gate.promise)));
    };
    for (let i = 0; i < 3; i++) start();
    await settle();
    // Each round frees a slot and newcomers arrive at every microtask step around the
    // moment the freed slot passes to a waiter: none of them may slip in over the bound.
    for (let round = 0; round < 10; round++) {
      gates[round]?.resolve();
      for (let i = 0; i < 3; i++) {
        start();
        await Promise.resolve();
      }
      await settle();
      expect(state.active).toBe(3);
    }
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(state.max).toBe(3);
    expect(state.started).toBe(33);
  });

  it('holds the bound for any mix of latencies and arrivals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ delay: fc.nat(3), arriveAfter: fc.nat(2) }), { maxLength: 25 }),
        async (limit, tasks) => {
          const limiter = createLimiter(limit);
          const { state, track } = gauge();
          const runs = tasks.map(async ({ delay, arriveAfter }, index) => {
            for (let i = 0; i < arriveAfter; i++) await Promise.resolve();
            return limiter.run(
              track(async () => {
                for (let i = 0; i < delay; i++) await Promise.resolve();
                return index;
              }),
            );
          });
          expect(await Promise.all(runs)).toEqual(tasks.map((_, index) => index));
          expect(state.max).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it('passes a rejection on and frees the slot', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      limiter.run(() => {
        throw new Error('thrown before any promise');
      }),
    ).rejects.toThrow('thrown before any promise');
    // With a leaked slot this would wait forever.
    await expect(limiter.run(async () => 'still running')).resolves.toBe('still running');
  });

  it('hands a slot freed by a failure to a waiting task', async () => {
    const limiter = createLimiter(1);
    const gate = deferred();
    const failing = limiter.run(() => gate.promise);
    const waiting = limiter.run(async () => 'next');
    gate.reject(new Error('failed'));
    await expect(failing).rejects.toThrow('failed');
    await expect(waiting).resolves.toBe('next');
  });
});

describe('mapLimited', () => {
  it('keeps input order even when later items finish first', async () => {
    const items = [30, 5, 20, 0, 10];
    const results = await mapLimited(items, 2, async (n) => {
      for (let i = 0; i < n; i++) await Promise.resolve();
      return n * 2;
    });
    expect(results).toEqual([60, 10, 40, 0, 20]);
  });

  it('never has more than the limit in flight', async () => {
    const { state, track } = gauge();
    await mapLimited(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      (i) => track(() => new Promise((resolve) => setTimeout(resolve, i % 3)))(),
    );
    expect(state.max).toBe(3);
    expect(state.started).toBe(20);
  });

  it('rejects with the first failure and does not hold slots afterwards', async () => {
    const { state, track } = gauge();
    await expect(
      mapLimited([1, 2, 3, 4], 2, (n) =>
        track(async () => {
          if (n === 2) throw new Error('item 2 failed');
          return n;
        })(),
      ),
    ).rejects.toThrow('item 2 failed');
    await settle();
    expect(state.active).toBe(0);
    expect(state.started).toBe(4);
  });

  it('returns an empty list for no items', async () => {
    expect(await mapLimited([], 3, async () => 1)).toEqual([]);
  });
});
