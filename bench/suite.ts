/** Runs the benchmark sections in turn and gathers one report. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { TOPOLOGY } from '#config/topology';
import { DEFAULT_FAN_OUT_SETTINGS } from '#core/fan-out';
import {
  type BroadcastModel,
  modelBroadcast,
  type SplitTimings,
  SQS_SCALING,
  splitBroadcast,
} from './broadcast-split';
import { changeCosts } from './change-events';
import { benchColdStart, type ColdStartResults } from './cold-start';
import {
  costPerMillion,
  emailUsage,
  FLOOR_USAGE,
  inAppUsage,
  type MeasuredNotification,
} from './cost-model';
import { totalRequests } from './dynamo-counter';
import { benchEndToEnd, type EndToEndResult } from './end-to-end';
import { benchFanOut } from './fan-out';
import { writeFindings } from './findings';
import type { BenchReport, BroadcastScenario, CostReport } from './report-model';
import { evaluateTargets, LIMITS, type TargetFacts } from './targets';

export interface SuiteOptions {
  quick: boolean;
  latencyMs: number;
  sections: Set<string>;
  command: string;
  log: (message: string) => void;
}

/** Sizes and repetitions: the full run within 10 minutes, quick within one, on 2 cores. */
export function plan(quick: boolean) {
  return quick
    ? {
        sizes: [1, 100, 500],
        concurrencies: [DEFAULT_FAN_OUT_SETTINGS.concurrency, 150],
        sequentialMax: 100,
        singles: 30,
        changeBurst: 200,
        endToEnd: { clients: 200, users: 40, rates: [200], seconds: 2, warmSeconds: 1, emails: 5 },
        coldStart: { runs: 2, extraRuns: 1 },
      }
    : {
        sizes: [1, 100, 1_000, 10_000],
        concurrencies: [DEFAULT_FAN_OUT_SETTINGS.concurrency, 150],
        sequentialMax: 1_000,
        singles: 200,
        changeBurst: 1_000,
        endToEnd: {
          clients: 1_000,
          users: 200,
          rates: [200, 100, 50],
          seconds: 5,
          warmSeconds: 3,
          emails: 20,
        },
        coldStart: { runs: 20, extraRuns: 5 },
      };
}

/** A function's memory as its construct sets it (HeraldFunction's default otherwise). */
export function constructMemoryMb(constructFile: string, fallback = 256): number {
  try {
    const text = readFileSync(
      new URL(`../infra/constructs/${constructFile}`, import.meta.url),
      'utf8',
    );
    const match = /memorySize:\s*(\d+)/.exec(text);
    return match ? Number(match[1]) : fallback;
  } catch {
    return fallback;
  }
}

/** Lambda gives 1 vCPU at 1,769 MB and CPU in proportion to memory. */
export const MB_PER_VCPU = 1769;

/**
 * How long a Lambda with `memoryMb` would take for work that took `wallMs` here using
 * `cpuMs` of CPU: at least the wall time, and at least the CPU time at its vCPU share.
 */
export function lambdaMs(wallMs: number, cpuMs: number, memoryMb: number): number {
  return Math.max(wallMs, cpuMs / Math.min(1, memoryMb / MB_PER_VCPU));
}

export async function runBenchmarks(options: SuiteOptions): Promise<BenchReport> {
  const { log, latencyMs } = options;
  const sizes = plan(options.quick);
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`load average at start: ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`);

  const fanOut = await benchFanOut({
    sizes: sizes.sizes,
    latencyMs,
    concurrencies: sizes.concurrencies,
    sequentialMax: sizes.sequentialMax,
    singles: sizes.singles,
    changeBurst: sizes.changeBurst,
    log,
  });
  const fanOutMemoryMb = constructMemoryMb('fan-out-consumer.ts');
  const emailMemoryMb = constructMemoryMb('email-consumer.ts');

  // The 100,000-connection broadcast, split by the real code, then modelled.
  const largest = Math.max(...sizes.sizes);
  const [defaultConcurrency] = sizes.concurrencies as [number];
  const topicAtLargest = fanOut.rows.find(
    (row) =>
      row.system === 'herald' &&
      row.shape === 'topic' &&
      row.k === largest &&
      row.concurrency === defaultConcurrency,
  );
  const cpuMsPerPost = topicAtLargest
    ? topicAtLargest.cpuMs / Math.max(1, topicAtLargest.delivered)
    : 1;
  const bound = defaultConcurrency / (latencyMs / 1000);
  const cpuRate = Math.min(
    bound,
    Math.min(1, fanOutMemoryMb / MB_PER_VCPU) / (cpuMsPerPost / 1000),
  );
  // Queries as measured on DynamoDB Local; SQS requests and the pickup are assumptions.
  const timings: SplitTimings = {
    pageQueryMs: fanOut.pageQueryMs || 30,
    walkMsPerThousandKeys: fanOut.walkMsPerThousandKeys || 10,
    sendMs: 10,
    sendBatchMs: 20,
  };
  const pickupMs = 100;
  const accountRate = 10_000;
  const batchSize = TOPOLOGY.queues.fanOut.batchSize;
  const scenarios: BroadcastScenario[] = [];
  const splits = new Map<number, Awaited<ReturnType<typeof splitBroadcast>>>();
  for (const pageSize of [DEFAULT_FAN_OUT_SETTINGS.pageSize, 5_000]) {
    const split = await splitBroadcast(100_000, pageSize, timings);
    splits.set(pageSize, split);
    for (const [label, invocationRate] of [
      [`page ${pageSize.toLocaleString('en-US')}, posting bound C÷L`, bound],
      [
        `page ${pageSize.toLocaleString('en-US')}, CPU-bound at ${fanOutMemoryMb} MB (this machine's CPU per post)`,
        cpuRate,
      ],
    ] as const) {
      const model: BroadcastModel = {
        pickupMs,
        invocationRate,
        accountRate,
        batchSize,
        ...SQS_SCALING,
      };
      scenarios.push({ label, invocationRate, result: modelBroadcast(split.invocations, model) });
    }
  }
  const defaultSplit = splits.get(DEFAULT_FAN_OUT_SETTINGS.pageSize);
  if (!defaultSplit) throw new Error('no split at the default page size');
  log(
    `broadcast: ${defaultSplit.invocations.length} tasks; modelled ${scenarios[0]?.result.seconds} s`,
  );

  let endToEnd: EndToEndResult | undefined;
  if (options.sections.has('end-to-end')) {
    endToEnd = await benchEndToEnd({ ...sizes.endToEnd, log });
  }
  let coldStart: ColdStartResults | undefined;
  if (options.sections.has('cold-start')) {
    coldStart = await benchColdStart({ ...sizes.coldStart, log });
  }

  // Cost: run 1's one-recipient notifications (in batches, as SQS delivers), run 2 to cross-check.
  const single = fanOut.single;
  const measured: MeasuredNotification = {
    dynamoWriteUnits: single.dynamo.writeUnits / single.notifications,
    dynamoReadUnits: single.dynamo.readUnits / single.notifications,
    frameBytes: single.frameBytes,
    lambdaMsPerNotification:
      lambdaMs(single.seconds * 1000, single.cpuMs, fanOutMemoryMb) / single.notifications,
    memoryMb: fanOutMemoryMb,
    batchSize: single.batchSize,
  };
  const target =
    endToEnd?.runs.find((run) => run.rate === LIMITS.endToEndRate) ?? endToEnd?.runs[0];
  const emailSent = endToEnd?.email.sent ?? 0;
  const emailMs = 100;
  const cost: CostReport = {
    inApp: costPerMillion(inAppUsage(measured)),
    inAppEndToEnd: target
      ? costPerMillion(
          inAppUsage({
            ...measured,
            dynamoWriteUnits: target.dynamo.writeUnits / target.notifications,
            dynamoReadUnits: target.dynamo.readUnits / target.notifications,
          }),
        )
      : undefined,
    inAppUnbatched: costPerMillion(inAppUsage({ ...measured, batchSize: 1 })),
    floor: costPerMillion(FLOOR_USAGE),
    email:
      endToEnd && emailSent > 0
        ? costPerMillion(
            emailUsage({
              dynamoWriteUnits: endToEnd.email.dynamo.writeUnits / emailSent,
              dynamoReadUnits: endToEnd.email.dynamo.readUnits / emailSent,
              lambdaMsPerNotification: emailMs / single.batchSize,
              memoryMb: emailMemoryMb,
              batchSize: single.batchSize,
            }),
          )
        : undefined,
    changes: fanOut.changes && changeCosts(fanOut.changes, fanOutMemoryMb, lambdaMs),
    assumptions: [
      `Lambda time per in-app notification: ${measured.lambdaMsPerNotification.toFixed(2)} ms, from run 1's ${single.notifications} one-recipient notifications in batches of ${single.batchSize} (wall time here, or CPU time scaled to the ${fanOutMemoryMb} MB function's ${(Math.min(1, fanOutMemoryMb / MB_PER_VCPU) * 100).toFixed(0)}% of a vCPU, whichever is longer); DynamoDB Local's latency stands in for DynamoDB's.`,
      `SQS: one ReceiveMessage and one DeleteMessageBatch per batch of ${single.batchSize} (SNS's delivery into SQS is free); Lambda: one invocation per batch. The event source's idle long polls (a few hundred thousand a month, about $0.30) are a fixed cost, not per notification.`,
      'DynamoDB units are as DynamoDB Local reports them (`ReturnConsumedCapacity`), a failed conditional write counted as one WRU.',
      `Email Lambda time is not measured (the SES emulator answers faster than SES): ${emailMs} ms per email at ${emailMemoryMb} MB, shared by a batch of ${single.batchSize}.`,
      'Connection minutes are paid per connected client, not per notification: a client connected around the clock costs 43,200 min × $0.25/M = $0.011 a month, plus a keep-alive ping every 9 minutes (4,800 messages, $0.005). They are left out of the per-notification comparison, as the floor leaves them out.',
    ],
  };

  const herald = fanOut.rows.filter((row) => row.system === 'herald');
  const constrained = fanOut.memory;
  const memory = constrained.error
    ? {
        memoryMb: Number.POSITIVE_INFINITY,
        memoryBasis: `K = ${constrained.k.toLocaleString('en-US')} alone with a ${constrained.heapLimitMb} MB heap: ${constrained.error}`,
      }
    : {
        memoryMb: Math.max(constrained.topicPeakRssMb, constrained.usersPeakRssMb),
        memoryBasis: `peak RSS at K = ${constrained.k.toLocaleString('en-US')}, topic and users, alone in a process with a ${constrained.heapLimitMb} MB heap`,
      };
  const facts: TargetFacts = {
    fanOut: {
      k: largest,
      topic: herald
        .filter((row) => row.shape === 'topic' && row.k === largest)
        .map((row) => {
          const floor = fanOut.rows.find(
            (each) =>
              each.system === 'floor' && each.k === row.k && each.concurrency === row.concurrency,
          );
          return {
            concurrency: row.concurrency,
            ratio: row.deliveriesPerSecond / row.bound,
            ...(floor && { floorRatio: floor.deliveriesPerSecond / floor.bound }),
          };
        }),
      ...memory,
      scans: herald.reduce((sum, row) => sum + totalRequests(row.dynamo, 'Scan'), 0),
      queriesPerPage: Math.max(...herald.map((row) => row.queriesPerPage)),
    },
    endToEnd:
      target && endToEnd
        ? {
            clients: endToEnd.clients,
            rate: target.rate,
            expected: target.herald.expected,
            delivered: target.herald.delivered,
            p99: target.herald.latency.p99,
          }
        : undefined,
    coldStart: coldStart
      ? {
          rows: coldStart.rows.map((row) => ({
            handler: row.handler,
            bytes: row.bytes,
            initRatio: row.initMs.optimised / row.initMs.unoptimised,
            initOverSdkBundled:
              row.samples.sdkBundled > 0 ? row.initMs.optimised / row.initMs.sdkBundled : undefined,
          })),
        }
      : undefined,
    cost: { perMillion: cost.inApp.perMillion, floorPerMillion: cost.floor.perMillion },
    broadcast: {
      seconds: scenarios[0]?.result.seconds ?? 0,
      floorSeconds: scenarios[0]?.result.floorSeconds ?? 0,
    },
  };

  const report: BenchReport = {
    command: options.command,
    quick: options.quick,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: os.totalmem() / 2 ** 30,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
    },
    loadBefore,
    loadAfter: os.loadavg(),
    latencyMs,
    fanOut,
    broadcast: { split: defaultSplit, timings, pickupMs, batchSize, accountRate, scenarios },
    endToEnd,
    coldStart,
    cost,
    targets: evaluateTargets(facts),
    findings: [],
  };
  report.findings = writeFindings(report, { cpuMsPerPost, fanOutMemoryMb, cpuRate });
  return report;
}
