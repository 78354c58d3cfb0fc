/**
 * Handler faults on demand for the SQS runners, modelled on what Lambda does with them:
 * - crash: the function dies mid-batch. The records before the crash were handled (their side
 *   effects happened), then the invocation fails: nothing is deleted, no partial batch response
 *   exists, and the whole batch returns after its visibility timeout.
 * - overrun: the function runs past its timeout. Its work happened, but Lambda abandons the
 *   invocation and ignores its result, so the whole batch returns after its visibility timeout.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { faultDice } from './fault-dice';
import type { FaultPlan } from './fault-plan';
import { FaultTally } from './fault-tally';

export type HandlerFault = { kind: 'crash'; handledRecords: number } | { kind: 'overrun' };

/** Rolls the dice for one invocation of `records` records: its fault, or undefined. */
export type HandlerFaults = (records: number) => HandlerFault | undefined;

/** The dice of one function (`functionName`), so each runner's faults repeat with the seed. */
export function handlerFaults(
  plan: Pick<FaultPlan, 'handlers' | 'seed'>,
  functionName: string,
  tally = new FaultTally(),
): HandlerFaults {
  const dice = faultDice(plan.seed, `handlers:${functionName}`);
  const rates = plan.handlers ?? {};
  return (records) => {
    if (dice.roll(rates.crashRate)) {
      tally.count('handlers.crash');
      return { kind: 'crash', handledRecords: dice.pick(records) };
    }
    if (dice.roll(rates.overrunRate)) {
      tally.count('handlers.overrun');
      return { kind: 'overrun' };
    }
    return undefined;
  };
}

/**
 * Runs a faulted invocation: the work the fault lets happen, its result thrown away. The caller
 * deletes nothing, so the batch is redelivered as Lambda's would be.
 */
export async function invokeFaulted(
  fault: HandlerFault,
  handler: (event: SQSEvent, context: Context) => Promise<unknown>,
  records: SQSRecord[],
  context: Context,
): Promise<void> {
  const reached = fault.kind === 'crash' ? records.slice(0, fault.handledRecords) : records;
  if (reached.length === 0) return;
  // Whatever the handler answered or threw, the invocation is lost.
  await handler({ Records: reached }, context).catch(() => undefined);
}
