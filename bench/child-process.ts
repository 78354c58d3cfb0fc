import type { ChildProcess } from 'node:child_process';

/**
 * Stops a forked helper process: SIGTERM on demand (once, however often asked), and
 * SIGKILL should this process exit first, so no helper outlives a benchmark.
 */
export function stopper(child: ChildProcess): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    return stopping;
  };
}
