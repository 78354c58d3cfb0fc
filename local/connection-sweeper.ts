/**
 * The local stand-in for the `connection-sweep` schedule (every minute in AWS): runs the
 * same handler on a timer, one run at a time, and lets tests run it on demand.
 */
export const DEFAULT_CONNECTION_SWEEP_MS = 30_000;

export interface SweepResult {
  closed: number;
  problems: number;
}

export interface ConnectionSweeper {
  /** Runs a sweep now (after the one in progress, if any). */
  sweep(): Promise<SweepResult>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  stop(): Promise<void>;
}

export function startConnectionSweeper(options: {
  handler: (event: unknown) => Promise<SweepResult>;
  intervalMs: number;
  log: (message: string) => void;
}): ConnectionSweeper {
  let last: Promise<unknown> = Promise.resolve();
  const sweep = (): Promise<SweepResult> => {
    // One at a time, as one scheduled invocation per minute rarely overlaps in AWS.
    const run = last.then(() => options.handler({ source: 'local.connection-sweep' }));
    last = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => options.log(`connection sweep failed: ${String(error)}`));
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
