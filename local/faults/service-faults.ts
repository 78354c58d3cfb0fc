/**
 * The proxies a fault plan puts between the handlers and the emulators. Only points with a
 * rate above 0 get one; the rest of the stack keeps talking to the emulators directly.
 */
import { startDynamoDbFaults } from './dynamodb-faults';
import type { FaultPlan } from './fault-plan';
import type { FaultTally } from './fault-tally';
import { startSesFaults } from './ses-faults';

/** The endpoints the handlers should use: a fault proxy's, or the emulator's own. */
export async function startServiceFaults(
  endpoints: { dynamodb: string; ses: string },
  plan: FaultPlan | undefined,
  stops: Array<() => Promise<void>>,
  tally: FaultTally,
): Promise<{ dynamodb: string; ses: string }> {
  const routed = { ...endpoints };
  if (plan?.dynamodb?.throttleRate) {
    const proxy = await startDynamoDbFaults(endpoints.dynamodb, plan, tally);
    stops.push(() => proxy.stop());
    routed.dynamodb = proxy.url;
  }
  if (plan?.ses?.errorRate) {
    const proxy = await startSesFaults(endpoints.ses, plan, tally);
    stops.push(() => proxy.stop());
    routed.ses = proxy.url;
  }
  return routed;
}
