import type { Clock } from './ports';

/**
 * Spaces calls out to at most `ratePerSecond`: a token bucket holding one token, so it never
 * bursts above the rate (SES counts its send rate per second, and a burst at the start of
 * each invocation would exceed it). Shared by everything one container sends.
 */
export interface Pacer {
  /** Resolves when the next call may go. */
  wait(): Promise<void>;
}

export function createPacer(ratePerSecond: number, clock: Pick<Clock, 'now' | 'sleep'>): Pacer {
  if (!(ratePerSecond > 0)) throw new RangeError(`rate must be > 0, got ${ratePerSecond}`);
  const interval = 1000 / ratePerSecond;
  let nextAt = Number.NEGATIVE_INFINITY;
  return {
    async wait() {
      const now = clock.now();
      const at = Math.max(now, nextAt);
      // Booked before sleeping, so callers waiting side by side get consecutive slots.
      nextAt = at + interval;
      if (at > now) await clock.sleep(at - now);
    },
  };
}
