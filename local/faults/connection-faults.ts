/**
 * `@connections` faults on demand: which answer the management API gives a request instead of
 * its normal one. Throttled and failed requests are not carried out (the frame is not posted);
 * a slow one is carried out after the delay, as API Gateway under load does.
 */
import { faultDice } from './fault-dice';
import { DEFAULT_SLOW_MS, type FaultPlan } from './fault-plan';

export type ConnectionFault =
  | { kind: 'refuse'; status: number; errorType: string; message: string }
  | { kind: 'slow'; ms: number };

/** Rolls the dice for one request: the fault it meets, or undefined. */
export type ConnectionFaults = () => ConnectionFault | undefined;

export function connectionFaults(plan: Pick<FaultPlan, 'connections' | 'seed'>): ConnectionFaults {
  const dice = faultDice(plan.seed, 'connections');
  const rates = plan.connections ?? {};
  return () => {
    if (dice.roll(rates.throttleRate)) {
      return {
        kind: 'refuse',
        status: 429,
        errorType: 'LimitExceededException',
        message: 'Rate exceeded',
      };
    }
    if (dice.roll(rates.errorRate)) {
      return {
        kind: 'refuse',
        status: 500,
        errorType: 'InternalServerErrorException',
        message: 'Internal server error',
      };
    }
    if (dice.roll(rates.slowRate)) return { kind: 'slow', ms: rates.slowMs ?? DEFAULT_SLOW_MS };
    return undefined;
  };
}
