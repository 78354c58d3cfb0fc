/**
 * The local stand-in for an every-minute schedule (the `connection-sweep` and
 * `snooze-sweep` rules in AWS): runs the same handler on a timer, one run at a time, and
 * lets tests run it on demand.
 */
export const DEFAULT_CONNECTION_SWEEP_MS = 30_000;

export interface SweepResult {
  closed: number;
  problems: number;
}

export interface Sweeper<R> {
  /** Runs a sweep now (after the one in progress, if any). */
  sweep(): Promise<R>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  stop(): Promise<void>;
}

export type ConnectionSweeper = Sweeper<SweepResult>;

export function startConnectionSweeper<R = SweepResult>(options: {
  handler: (event: unknown) => Promise<R>;
  intervalMs: number;
  log: (message: string) => void;
  /** The schedule it stands for, in its event's `source` and its log lines. */
  name?: string;
}): Sweeper<R> {
  const name = options.name ?? 'connection-sweep';
  let last: Promise<unknown> = Promise.resolve();
  const sweep = (): Promise<R> => {
    // One at a time, as one scheduled invocation per minute rarely overlaps in AWS.
    const run = last.then(() => options.handler({ source: `local.${name}` }));
    last = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => options.log(`${name} failed: ${String(error)}`));
  }, options.intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await last;
    },
  };
}
