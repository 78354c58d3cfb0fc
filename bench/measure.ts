/** How long a run took, the CPU it used, and the memory its process peaked at. */
import { Peak } from './stats';

interface MemoryPeak<T> {
  value: T;
  peakRssMb: number;
  /** How much RSS grew during the run over what the process held before it. */
  rssGrowthMb: number;
  peakHeapMb: number;
}

export interface Measured<T> extends MemoryPeak<T> {
  seconds: number;
  cpuMs: number;
}

/** Samples memory every 10 ms while `run` runs. */
async function withMemoryPeak<T>(run: () => Promise<T>): Promise<MemoryPeak<T>> {
  const rss = new Peak();
  const heap = new Peak();
  const sample = () => {
    const usage = process.memoryUsage();
    rss.observe(usage.rss);
    heap.observe(usage.heapUsed);
  };
  const before = process.memoryUsage().rss;
  sample();
  const timer = setInterval(sample, 10);
  try {
    const value = await run();
    sample();
    return {
      value,
      peakRssMb: rss.peak / 2 ** 20,
      rssGrowthMb: (rss.peak - before) / 2 ** 20,
      peakHeapMb: heap.peak / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

export async function timed<T>(run: () => Promise<T>): Promise<Measured<T>> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const measured = await withMemoryPeak(run);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ...measured, seconds, cpuMs: (used.user + used.system) / 1000 };
}
