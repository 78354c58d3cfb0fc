/**
 * Issue 5's targets, judged against what a run measured. Pure, so the judging itself is
 * unit-tested; BENCHMARKS.md says why each miss happens and what would close it.
 */

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
  /** By how much it is missed (or the margin), in words. */
  margin: string;
}

export interface FanOutFacts {
  k: number;
  /** Herald's topic broadcast at K, per delivery concurrency. */
  topic: Array<{ concurrency: number; ratio: number; floorRatio?: number }>;
  /** Estimated Lambda memory: RSS after loading the handler plus the most a run added to it. */
  memoryMb: number;
  /** How the estimate was made. */
  memoryBasis: string;
  scans: number;
  /** Query requests per recipient page, worst Herald row. */
  queriesPerPage: number;
}

export interface EndToEndFacts {
  clients: number;
  rate: number;
  expected: number;
  delivered: number;
  p99: number;
}

export interface ColdStartFacts {
  rows: Array<{
    handler: string;
    bytes: number;
    initRatio: number;
    /** Init ÷ the "SDK bundled" reference's init; undefined where it was not measured. */
    initOverSdkBundled?: number;
  }>;
}

export interface TargetFacts {
  fanOut: FanOutFacts;
  endToEnd?: EndToEndFacts;
  coldStart?: ColdStartFacts;
  cost?: { perMillion: number; floorPerMillion: number };
  broadcast: { seconds: number; floorSeconds: number };
}

export const LIMITS = {
  fanOutRatio: 0.9,
  fanOutMemoryMb: 256,
  endToEndP99Ms: 100,
  endToEndClients: 1000,
  endToEndRate: 200,
  /** Init over bytes: with the AWS SDK bundled, bundles may be larger. */
  bundleBytes: 1024 * 1024,
  initRatio: 0.5,
  initOverSdkBundled: 1.15,
  costOverFloor: 0.15,
  broadcastOverFloor: 0.2,
} as const;

const pct = (value: number) => `${(value * 100).toFixed(0)}%`;

export function evaluateTargets(facts: TargetFacts): Target[] {
  const targets: Target[] = [];
  const { fanOut } = facts;

  for (const { concurrency, ratio, floorRatio } of fanOut.topic) {
    const floor =
      floorRatio === undefined
        ? ''
        : ` (a bare keep-alive HTTP client: ${pct(floorRatio)} in the same run)`;
    targets.push({
      name: `Fan-out throughput, K = ${fanOut.k.toLocaleString('en-US')}, C = ${concurrency}`,
      goal: `≥ ${pct(LIMITS.fanOutRatio)} of C ÷ L`,
      measured: `${pct(ratio)}${floor}`,
      met: ratio >= LIMITS.fanOutRatio,
      margin:
        ratio >= LIMITS.fanOutRatio ? 'met' : `${pct(LIMITS.fanOutRatio - ratio)} points short`,
    });
  }
  targets.push({
    name: 'Fan-out memory',
    goal: `< ${LIMITS.fanOutMemoryMb} MB`,
    measured: Number.isFinite(fanOut.memoryMb)
      ? `${fanOut.memoryMb.toFixed(0)} MB (${fanOut.memoryBasis})`
      : fanOut.memoryBasis,
    met: fanOut.memoryMb < LIMITS.fanOutMemoryMb,
    margin:
      fanOut.memoryMb < LIMITS.fanOutMemoryMb
        ? `${(LIMITS.fanOutMemoryMb - fanOut.memoryMb).toFixed(0)} MB to spare`
        : Number.isFinite(fanOut.memoryMb)
          ? `${(fanOut.memoryMb - LIMITS.fanOutMemoryMb).toFixed(0)} MB over`
          : 'did not finish',
  });
  targets.push({
    name: 'Fan-out Scans',
    goal: '0',
    measured: String(fanOut.scans),
    met: fanOut.scans === 0,
    margin: fanOut.scans === 0 ? 'met' : `${fanOut.scans} Scan(s)`,
  });
  targets.push({
    name: 'Query pages per recipient page',
    goal: '1',
    measured: fanOut.queriesPerPage.toFixed(2),
    met: fanOut.queriesPerPage <= 1,
    margin:
      fanOut.queriesPerPage <= 1
        ? 'met'
        : `${pct(fanOut.queriesPerPage - 1)} more Queries than pages`,
  });

  const e2e = facts.endToEnd;
  if (e2e) {
    const complete = e2e.delivered === e2e.expected;
    targets.push({
      name: `End to end delivered, ${e2e.clients} clients, ${e2e.rate}/s`,
      goal: '100%',
      measured: `${e2e.delivered}/${e2e.expected}`,
      met: complete,
      margin: complete ? 'met' : `${e2e.expected - e2e.delivered} missing`,
    });
    targets.push({
      name: `End to end p99, ${e2e.clients} clients, ${e2e.rate}/s`,
      goal: `< ${LIMITS.endToEndP99Ms} ms`,
      measured: `${e2e.p99} ms`,
      met: e2e.p99 < LIMITS.endToEndP99Ms,
      margin:
        e2e.p99 < LIMITS.endToEndP99Ms
          ? `${LIMITS.endToEndP99Ms - e2e.p99} ms to spare`
          : `${(e2e.p99 / LIMITS.endToEndP99Ms).toFixed(1)}× the limit`,
    });
  }

  if (facts.coldStart) {
    for (const row of facts.coldStart.rows) {
      const small = row.bytes < LIMITS.bundleBytes;
      targets.push({
        name: `Bundle size, ${row.handler}`,
        goal: `< ${(LIMITS.bundleBytes / 1024).toFixed(0)} KB`,
        measured: `${(row.bytes / 1024).toFixed(0)} KB`,
        met: small,
        margin: small
          ? `${((LIMITS.bundleBytes - row.bytes) / 1024).toFixed(0)} KB to spare`
          : `${((row.bytes - LIMITS.bundleBytes) / 1024).toFixed(0)} KB over`,
      });
    }
    for (const row of facts.coldStart.rows) {
      const fast = row.initRatio <= LIMITS.initRatio;
      targets.push({
        name: `Init vs unoptimised, ${row.handler}`,
        goal: `≤ ${LIMITS.initRatio}×`,
        measured: `${row.initRatio.toFixed(2)}×`,
        met: fast,
        margin: fast
          ? 'met'
          : `${(row.initRatio / LIMITS.initRatio).toFixed(1)}× the allowed ratio`,
      });
    }
    for (const row of facts.coldStart.rows) {
      if (row.initOverSdkBundled === undefined) continue;
      const fast = row.initOverSdkBundled <= LIMITS.initOverSdkBundled;
      targets.push({
        name: `Init vs SDK bundled, ${row.handler}`,
        goal: `≤ ${LIMITS.initOverSdkBundled}×`,
        measured: `${row.initOverSdkBundled.toFixed(2)}×`,
        met: fast,
        margin: fast
          ? 'met'
          : `${(row.initOverSdkBundled / LIMITS.initOverSdkBundled).toFixed(2)}× the allowed ratio`,
      });
    }
  }

  if (facts.cost) {
    const over = facts.cost.perMillion / facts.cost.floorPerMillion - 1;
    targets.push({
      name: 'Cost per million in-app notifications',
      goal: `within ${pct(LIMITS.costOverFloor)} of $${facts.cost.floorPerMillion.toFixed(2)}`,
      measured: `$${facts.cost.perMillion.toFixed(2)} (${over >= 0 ? '+' : ''}${pct(over)})`,
      met: over <= LIMITS.costOverFloor,
      margin:
        over <= LIMITS.costOverFloor ? 'met' : `${pct(over - LIMITS.costOverFloor)} points over`,
    });
  }

  const { seconds, floorSeconds } = facts.broadcast;
  const allowed = floorSeconds * (1 + LIMITS.broadcastOverFloor);
  targets.push({
    name: '100,000-connection broadcast, modelled',
    goal: `≤ ${allowed.toFixed(0)} s (the throttle's ${floorSeconds.toFixed(0)} s + 20%)`,
    measured: `${seconds.toFixed(1)} s`,
    met: seconds <= allowed,
    margin:
      seconds <= allowed
        ? `${(allowed - seconds).toFixed(1)} s to spare`
        : `${(seconds - allowed).toFixed(1)} s over`,
  });
  return targets;
}
