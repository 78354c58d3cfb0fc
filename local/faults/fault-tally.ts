/**
 * How many faults each injection point has injected so far, named as in `HERALD_FAULTS`, so a
 * run (a test, the chaos run) can show that the faults it asked for really happened.
 */
export const FAULT_NAMES = [
  'connections.throttle',
  'connections.error',
  'connections.slow',
  'dynamodb.throttle',
  'ses.error',
  'handlers.crash',
  'handlers.overrun',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

export class FaultTally {
  private readonly counts = new Map<FaultName, number>();

  count(fault: FaultName): void {
    this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
  }

  /** Every fault's count, 0 for those never injected. */
  snapshot(): Record<FaultName, number> {
    return Object.fromEntries(
      FAULT_NAMES.map((name) => [name, this.counts.get(name) ?? 0]),
    ) as Record<FaultName, number>;
  }
}
