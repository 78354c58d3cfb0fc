/**
 * Fan-out throughput: Herald's real fan-out handler, wired to its real adapters on
 * DynamoDB Local and to a `@connections` endpoint answering after L ms, delivering one
 * notification to K connections (one topic, or K users), next to the naive baseline
 * (one Scan, unbounded `Promise.all`), a sequential one and the floor, in the same run.
 * This module sets the stage and runs the scenarios in order; Herald's runs are in
 * `fan-out-herald.ts`, the baselines' in `fan-out-baselines.ts`.
 */
import { createDocumentClient } from '#adapters/aws-clients';
import { startDynamoDbLocal } from '#local/dynamo-local';
import { createTables } from '#local/dynamo-tables';
import { type ChangeBurstRun, changeEnvelopeFor, runChangeBurst } from './change-events';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from './connections-endpoint';
import { countDynamoRequests } from './dynamo-counter';
import { runFloor, runNaive } from './fan-out-baselines';
import {
  heraldFanOut,
  runHerald,
  runSingles,
  type SingleRecipientRun,
  timeWalk,
} from './fan-out-herald';
import { type ConstrainedMemory, measureFanOutMemory } from './fan-out-memory';
import { benchDynamoClient, type FanOutRow, TABLES } from './fan-out-scenario';
import { createNaiveTable } from './naive-fan-out';
import { seedWorld } from './seed';

export interface FanOutBenchOptions {
  sizes: number[];
  latencyMs: number;
  /** Herald's delivery concurrency settings to measure (the first is used for user audiences). */
  concurrencies: number[];
  /** Largest audience the sequential baseline is run for (it takes K × L). */
  sequentialMax: number;
  /** One-recipient notifications to time and count (in batches of 10, as SQS delivers). */
  singles: number;
  /** Change events with one collapse key in the coalescing burst. */
  changeBurst: number;
  log: (message: string) => void;
}

export interface FanOutResults {
  rows: FanOutRow[];
  single: SingleRecipientRun;
  /** Change events beside the notifications, in the same run (absent in older reports). */
  changes?: { single: SingleRecipientRun; burst: ChangeBurstRun };
  /** Herald at the largest K again, alone in a process with a Lambda-sized heap. */
  memory: ConstrainedMemory;
  seedSeconds: number;
  /** Average time of one topic page Query (1,000 items) on DynamoDB Local, ms. */
  pageQueryMs: number;
  /** Time a broadcast's keys-only walk of a topic takes per 1,000 keys on DynamoDB Local, ms. */
  walkMsPerThousandKeys: number;
}

export async function benchFanOut(options: FanOutBenchOptions): Promise<FanOutResults> {
  const { sizes, latencyMs, log } = options;
  const db = await startDynamoDbLocal({ port: 0 });
  let endpoint: ConnectionsEndpoint | undefined;
  const client = benchDynamoClient(db.endpoint);
  try {
    endpoint = await startConnectionsEndpoint(latencyMs);
    const counter = countDynamoRequests(client);
    const doc = createDocumentClient(client);
    await createTables(client, {
      connections: TABLES.connections,
      notifications: TABLES.notifications,
    });
    await createNaiveTable(client, TABLES.naive);

    const seedStarted = performance.now();
    await seedWorld(doc, TABLES, sizes);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`fan-out: seeded ${Math.max(...sizes)} connections in ${seedSeconds.toFixed(1)} s`);

    const rows: FanOutRow[] = [];
    const queryTimes: number[] = [];
    const context = { doc, counter, endpoint, latencyMs, queryTimes };
    const [userConcurrency] = options.concurrencies;
    // One warm container per setting, reused by every run: its keep-alive sockets open and
    // its code paths compiled by a broadcast to up to 1,000 connections before anything is timed.
    const heralds = new Map(options.concurrencies.map((c) => [c, heraldFanOut(context, c)]));
    const warmK = Math.max(...sizes.filter((k) => k <= 1_000));
    for (const [concurrency, herald] of heralds) {
      await runHerald(context, herald, 'topic', warmK, concurrency);
    }
    context.queryTimes.length = 0;
    for (const k of sizes) {
      for (const shape of ['topic', 'users'] as const) {
        for (const concurrency of options.concurrencies) {
          const herald = heralds.get(concurrency);
          if (!herald || (shape === 'users' && concurrency !== userConcurrency)) continue;
          rows.push(await runHerald(context, herald, shape, k, concurrency));
          log(`fan-out: ${describeRow(rows.at(-1))}`);
        }
        if (shape === 'topic' && k === Math.max(...sizes)) {
          for (const concurrency of options.concurrencies) {
            rows.push(await runFloor(context, k, concurrency));
            log(`fan-out: ${describeRow(rows.at(-1))}`);
          }
        }
        rows.push(await runNaive(context, shape, k, 'naive'));
        log(`fan-out: ${describeRow(rows.at(-1))}`);
        if (k <= options.sequentialMax) {
          rows.push(await runNaive(context, shape, k, 'sequential'));
          log(`fan-out: ${describeRow(rows.at(-1))}`);
        }
      }
    }
    const single = await runSingles(
      context,
      heralds.get(userConcurrency ?? 0) ?? heraldFanOut(context, 64),
      options.singles,
    );
    log(
      `fan-out: ${single.notifications} one-recipient notifications in ${single.seconds.toFixed(2)} s`,
    );
    const singleChanges = await runSingles(
      context,
      heralds.get(userConcurrency ?? 0) ?? heraldFanOut(context, 64),
      options.singles,
      changeEnvelopeFor,
    );
    log(
      `fan-out: ${singleChanges.notifications} one-recipient change events in ${singleChanges.seconds.toFixed(2)} s`,
    );
    const burst = await runChangeBurst(
      context,
      heralds.get(userConcurrency ?? 0) ?? heraldFanOut(context, 64),
      options.changeBurst,
      single.batchSize,
    );
    log(
      `fan-out: a burst of ${burst.events} change events with one collapse key: ${burst.posts} push(es) in ${burst.seconds.toFixed(2)} s`,
    );
    const memory = await measureFanOutMemory({
      dynamoEndpoint: db.endpoint,
      callbackUrl: endpoint.url,
      latencyMs,
      k: Math.max(...sizes),
      concurrency: userConcurrency ?? 64,
    });
    log(
      `fan-out: alone with a ${memory.heapLimitMb} MB heap, peak RSS ${memory.error ?? `${Math.round(memory.topicPeakRssMb)} MB (topic), ${Math.round(memory.usersPeakRssMb)} MB (users)`}`,
    );
    const pageQueryMs = queryTimes.length
      ? queryTimes.reduce((a, b) => a + b, 0) / queryTimes.length
      : 0;
    const walkMsPerThousandKeys = await timeWalk(doc, Math.max(...sizes));
    log(`fan-out: a topic's keys walked at ${walkMsPerThousandKeys.toFixed(1)} ms per 1,000`);
    return {
      rows,
      single,
      changes: { single: singleChanges, burst },
      memory,
      seedSeconds,
      pageQueryMs,
      walkMsPerThousandKeys,
    };
  } finally {
    client.destroy();
    await endpoint?.stop();
    await db.stop();
  }
}

function describeRow(row: FanOutRow | undefined): string {
  if (!row) return '';
  return `${row.system} C=${row.concurrency} ${row.shape} K=${row.k}: ${Math.round(row.deliveriesPerSecond)}/s in ${row.seconds.toFixed(2)} s`;
}
