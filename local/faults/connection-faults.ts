/**
 * `@connections` faults on demand: which answer the management API gives a request instead of
 * its normal one. Throttled and failed requests are not carried out (the frame is not posted);
 * a slow one is carried out after the delay, as API Gateway under load does.
 */
import { faultDice } from './fault-dice';
import { DEFAULT_SLOW_MS, type FaultPlan } from './fault-plan';
import { type FaultName, FaultTally } from './fault-tally';

export type ConnectionFault =
  | { kind: 'refuse'; status: number; errorType: string; message: string }
  | { kind: 'slow'; ms: number };

/** Rolls the dice for one request: the fault it meets, or undefined. */
export type ConnectionFaults = () => ConnectionFault | undefined;

/** API Gateway's own answers when it throttles and when it fails, rolled for in this order. */
const REFUSALS = [
  {
    rate: 'throttleRate',
    name: 'connections.throttle',
    answer: {
      kind: 'refuse',
      status: 429,
      errorType: 'LimitExceededException',
      message: 'Rate exceeded',
    },
  },
  {
    rate: 'errorRate',
    name: 'connections.error',
    answer: {
      kind: 'refuse',
      status: 500,
      errorType: 'InternalServerErrorException',
      message: 'Internal server error',
    },
  },
] as const satisfies ReadonlyArray<{
  rate: 'throttleRate' | 'errorRate';
  name: FaultName;
  answer: ConnectionFault;
}>;

export function connectionFaults(
  plan: Pick<FaultPlan, 'connections' | 'seed'>,
  tally = new FaultTally(),
): ConnectionFaults {
  const dice = faultDice(plan.seed, 'connections');
  const rates = plan.connections ?? {};
  return () => {
    for (const refusal of REFUSALS) {
      if (dice.roll(rates[refusal.rate])) {
        tally.count(refusal.name);
        return refusal.answer;
      }
    }
    if (dice.roll(rates.slowRate)) {
      tally.count('connections.slow');
      return { kind: 'slow', ms: rates.slowMs ?? DEFAULT_SLOW_MS };
    }
    return undefined;
  };
}
