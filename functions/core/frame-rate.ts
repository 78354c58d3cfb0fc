/**
 * The per-connection frame rate (README "Security"): a token bucket per connection, kept in
 * a `FrameBudget` every container shares. An excess frame gets a `rate_limited` error; a
 * connection refused `refusalsBeforeClose` times over its life is closed.
 */
import type { ErrorBody } from './frames';
import type { Clock, Disconnector, FrameBudget } from './ports';

export interface FrameRateSettings {
  /** Frames a second a connection may send on average. */
  perSecond: number;
  /** Frames it may send at once after a quiet spell. */
  burst: number;
  /** Refused frames after which the connection is closed. */
  refusalsBeforeClose: number;
}

export const DEFAULT_FRAME_RATE: FrameRateSettings = {
  perSecond: 20,
  burst: 50,
  refusalsBeforeClose: 100,
};

export interface FrameGateDeps {
  budget: FrameBudget;
  disconnector: Disconnector;
  clock: Clock;
  settings: FrameRateSettings;
}

/** Undefined when the frame may be handled, else the error to answer it with. */
export type FrameGate = (connectionId: string) => Promise<ErrorBody | undefined>;

export function createFrameGate(deps: FrameGateDeps): FrameGate {
  const { perSecond, burst, refusalsBeforeClose } = deps.settings;
  return async (connectionId) => {
    const verdict = await deps.budget.take(connectionId, { perSecond, burst }, deps.clock.now());
    if (verdict.admitted) return undefined;
    if (verdict.refusals >= refusalsBeforeClose) {
      await deps.disconnector.disconnect(connectionId);
      return {
        code: 'rate_limited',
        message: `${verdict.refusals} frames refused for rate: closing the connection`,
      };
    }
    return {
      code: 'rate_limited',
      message: `at most ${perSecond} frames a second (bursts of ${burst}): slow down`,
    };
  };
}
