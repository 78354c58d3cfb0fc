/** Order statistics for benchmark samples. Pure, so they are unit-tested. */

/**
 * The q-quantile (0 ≤ q ≤ 1) of `samples` by the nearest-rank method: the smallest sample
 * with at least q of all samples at or below it. Undefined for no samples.
 */
export function quantile(samples: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** The middle sample (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50/p95/p99/max of latency samples; zeros for none, so a table still renders. */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  return {
    count: samples.length,
    p50: quantile(samples, 0.5) as number,
    p95: quantile(samples, 0.95) as number,
    p99: quantile(samples, 0.99) as number,
    max: samples.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
  };
}

/** Tracks the highest value seen of something sampled now and then (memory, in flight). */
export class Peak {
  private value = 0;
  observe(sample: number): void {
    if (sample > this.value) this.value = sample;
  }
  get peak(): number {
    return this.value;
  }
}
