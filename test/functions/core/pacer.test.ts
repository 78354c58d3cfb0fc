import { describe, expect, it } from 'vitest';
import { createPacer } from '#core/pacer';

/** A clock whose sleeps move its time on by exactly the time slept. */
function steppingClock(start = 1_000_000) {
  const clock = {
    time: start,
    sleeps: [] as number[],
    now: () => clock.time,
    async sleep(ms: number) {
      clock.sleeps.push(ms);
      clock.time += ms;
    },
  };
  return clock;
}

describe('createPacer', () => {
  it('spaces back-to-back calls 1/rate apart, with no burst at the start', async () => {
    const clock = steppingClock();
    const pacer = createPacer(14, clock);
    const starts: number[] = [];
    for (let call = 0; call < 30; call++) {
      await pacer.wait();
      starts.push(clock.time);
    }
    for (let call = 1; call < starts.length; call++) {
      expect((starts[call] as number) - (starts[call - 1] as number)).toBeCloseTo(1000 / 14, 6);
    }
    // 30 calls take 29 intervals: never more than 14 in any second.
    expect((starts.at(-1) as number) - (starts[0] as number)).toBeCloseTo((29 * 1000) / 14, 6);
  });

  it('gives callers waiting side by side consecutive slots', async () => {
    const clock = steppingClock();
    const pacer = createPacer(10, {
      now: () => clock.time,
      sleep: async (ms) => void clock.sleeps.push(ms),
    });
    await Promise.all([pacer.wait(), pacer.wait(), pacer.wait()]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('lets calls through at once when they come slower than the rate', async () => {
    const clock = steppingClock();
    const pacer = createPacer(14, clock);
    for (let call = 0; call < 5; call++) {
      await pacer.wait();
      clock.time += 1000;
    }
    expect(clock.sleeps).toEqual([]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createPacer(0, steppingClock())).toThrow(RangeError);
  });
});
