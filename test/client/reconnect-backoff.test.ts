import { describe, expect, it } from 'vitest';
import { type BackoffOptions, reconnectDelay } from '#client/reconnect-backoff';

const OPTIONS: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, failuresBeforeMax: 5 };

describe('reconnectDelay', () => {
  it('is full jitter below a ceiling that grows by the factor up to the maximum', () => {
    const delays = [1, 2, 3, 4, 7, 8].map((attempt) =>
      reconnectDelay({ attempt, failuresWithoutOpen: 0 }, OPTIONS, () => 0.5),
    );
    expect(delays).toEqual([250, 500, 1_000, 2_000, 15_000, 15_000]);
    const tripled = reconnectDelay(
      { attempt: 3, failuresWithoutOpen: 0 },
      { ...OPTIONS, factor: 3 },
      () => 0.5,
    );
    expect(tripled).toBe(0.5 * 500 * 9);
  });

  it('never waits the whole ceiling, and may retry at once', () => {
    expect(reconnectDelay({ attempt: 1, failuresWithoutOpen: 0 }, OPTIONS, () => 0)).toBe(0);
    expect(reconnectDelay({ attempt: 1, failuresWithoutOpen: 0 }, OPTIONS, () => 0.9999)).toBe(499);
  });

  it('waits between half the maximum and the maximum once the handshake keeps failing', () => {
    const attempt = { attempt: 5, failuresWithoutOpen: 5 };
    expect(reconnectDelay(attempt, OPTIONS, () => 0)).toBe(15_000);
    expect(reconnectDelay(attempt, OPTIONS, () => 0.5)).toBe(22_500);
    expect(reconnectDelay({ attempt: 5, failuresWithoutOpen: 4 }, OPTIONS, () => 0)).toBe(0);
  });
});
