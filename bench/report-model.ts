/** What one benchmark run measured, as the report and the findings read it. */
import type { ModelledBroadcast, SplitResult, SplitTimings } from './broadcast-split';
import type { ColdStartResults } from './cold-start';
import type { Cost } from './cost-model';
import type { EndToEndResult } from './end-to-end';
import type { FanOutResults } from './fan-out';
import type { Target } from './targets';

export interface Machine {
  cpus: number;
  model: string;
  memoryGb: number;
  platform: string;
  node: string;
}

export interface BroadcastScenario {
  label: string;
  invocationRate: number;
  result: ModelledBroadcast;
}

export interface CostReport {
  inApp: Cost;
  /** The same from the end-to-end run's counts, as a cross-check. */
  inAppEndToEnd?: Cost;
  /** In-app with one record per invocation (a quiet queue). */
  inAppUnbatched: Cost;
  floor: Cost;
  email?: Cost;
  /** Change events (`channels: ["live"]`), measured in the same run (absent in older reports). */
  changes?: {
    /** One publish to one user with one connection, nothing to coalesce. */
    single: Cost;
    /** Per event of a burst with one collapse key to one user. */
    burst: Cost;
  };
  assumptions: string[];
}

export interface BenchReport {
  command: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  machine: Machine;
  loadBefore: number[];
  loadAfter: number[];
  latencyMs: number;
  fanOut: FanOutResults;
  broadcast: {
    split: SplitResult;
    timings: SplitTimings;
    pickupMs: number;
    /** Most tasks one invocation takes from the queue. */
    batchSize: number;
    accountRate: number;
    scenarios: BroadcastScenario[];
  };
  endToEnd?: EndToEndResult;
  coldStart?: ColdStartResults;
  cost: CostReport;
  targets: Target[];
  /** Findings and proposed changes, one paragraph each (Markdown). */
  findings: string[];
}
