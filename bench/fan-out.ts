/**
 * Fan-out throughput: Herald's real fan-out handler, wired to its real adapters on
 * DynamoDB Local and to a `@connections` endpoint answering after L ms, delivering one
 * notification to K connections (one topic, or K users), next to the naive baseline
 * (one Scan, unbounded `Promise.all`) and a sequential one, in the same run.
 *
 * One container is modelled: the publish and then every continuation it hands on
 * (`broadcast-page` tasks, recorded instead of sent to SQS) run one after another through
 * the same handler, as successive invocations of one warm Lambda.
 */

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import {
  createDocumentClient,
  createSignedPostDelivery,
  dynamoRequestHandler,
} from '#adapters/aws-clients';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoInbox } from '#adapters/dynamo-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { TOPOLOGY } from '#config/topology';
import { ENVELOPE_LIMITS, parseEnvelope, toNotification } from '#core/envelope';
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS, PAGES_PER_WALK } from '#core/fan-out';
import { notificationFrame } from '#core/frames';
import type { Audience, ConnectionRef, Page } from '#core/model';
import { type Continuations, type FanOutTask, systemClock, type TopicPages } from '#core/ports';
import { makeHandler } from '#handlers/fan-out';
import { startDynamoDbLocal } from '#local/dynamo-local';
import { createTables } from '#local/dynamo-tables';
import { lambdaContext } from '#local/lambda-context';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from './connections-endpoint';
import {
  countDynamoRequests,
  type DynamoCounts,
  emptyCounts,
  subtractCounts,
  totalRequests,
} from './dynamo-counter';
import { type ConstrainedMemory, measureFanOutMemory } from './fan-out-memory';
import { createNaiveTable, naiveFanOut } from './naive-fan-out';
import { BENCH_TENANT, seedWorld, topicFor, userFor } from './seed';
import { publishRecord, sqsEvent, taskRecord } from './sqs-events';
import { Peak } from './stats';

/**
 * `floor`: a bare keep-alive HTTP client posting the same frames to the same endpoint at
 * the same concurrency, nothing else: what this machine allows any fan-out at that C.
 */
export type System = 'herald' | 'naive' | 'sequential' | 'floor';
export type Shape = 'topic' | 'users';

export interface FanOutRow {
  system: System;
  /** PostToConnection calls in flight at most (Herald's setting; the SDK's 50 sockets for naive). */
  concurrency: number;
  shape: Shape;
  k: number;
  /** Published envelopes (one per 1,000 users: the envelope's limit). */
  notifications: number;
  /** Invocations of the handler (publish batch plus continuation batches). */
  invocations: number;
  seconds: number;
  delivered: number;
  deliveriesPerSecond: number;
  /** concurrency ÷ L: what posting alone allows. */
  bound: number;
  dynamo: DynamoCounts;
  /** Page Query requests per page of recipients (topic) or per recipient (users). */
  queriesPerPage: number;
  /** Query requests of a broadcast's keys-only walk (not pages of recipients). */
  walkQueries: number;
  cpuMs: number;
  peakRssMb: number;
  /** How much RSS grew during the run over what the process held before it. */
  rssGrowthMb: number;
  peakHeapMb: number;
}

export interface FanOutBenchOptions {
  sizes: number[];
  latencyMs: number;
  /** Herald's delivery concurrency settings to measure (the first is used for user audiences). */
  concurrencies: number[];
  /** Largest audience the sequential baseline is run for (it takes K × L). */
  sequentialMax: number;
  /** One-recipient notifications to time and count (in batches of 10, as SQS delivers). */
  singles: number;
  log: (message: string) => void;
}

/** One-recipient notifications (one user, one connection) through the handler in SQS batches. */
export interface SingleRecipientRun {
  notifications: number;
  batchSize: number;
  invocations: number;
  seconds: number;
  cpuMs: number;
  dynamo: DynamoCounts;
  /** Bytes of the frame each connection got. */
  frameBytes: number;
}

export interface FanOutResults {
  rows: FanOutRow[];
  single: SingleRecipientRun;
  /** Herald at the largest K again, alone in a process with a Lambda-sized heap. */
  memory: ConstrainedMemory;
  seedSeconds: number;
  /** Average time of one topic page Query (1,000 items) on DynamoDB Local, ms. */
  pageQueryMs: number;
  /** Time a broadcast's keys-only walk of a topic takes per 1,000 keys on DynamoDB Local, ms. */
  walkMsPerThousandKeys: number;
}

export const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
export const TABLES = {
  connections: 'bench-herald-connections',
  notifications: 'bench-herald-notifications',
  naive: 'bench-naive-connections',
};

/** A notification as a publisher would send it: a title, a body, a little data. */
function envelopeFor(id: string, to: Audience): Record<string, unknown> {
  return {
    id,
    type: 'comment.created',
    to,
    tenant: BENCH_TENANT,
    title: 'New comment on your post',
    body: 'Bob replied: sounds good, ship it on Thursday.',
    data: { postId: 42, commentId: 1337 },
    url: 'https://app.example/posts/42#c1337',
  };
}

/** Records the tasks the fan-out hands on, to be run as the next invocations. */
class RecordedContinuations implements Continuations {
  readonly pending: FanOutTask[] = [];
  async enqueue(task: FanOutTask): Promise<void> {
    this.pending.push(task);
  }
  async enqueueMany(tasks: readonly FanOutTask[]): Promise<void> {
    this.pending.push(...tasks);
  }
}

/** Samples memory while `run` runs. */
async function withMemoryPeak<T>(run: () => Promise<T>) {
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

async function timed<T>(run: () => Promise<T>) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const measured = await withMemoryPeak(run);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ...measured, seconds, cpuMs: (used.user + used.system) / 1000 };
}

export async function benchFanOut(options: FanOutBenchOptions): Promise<FanOutResults> {
  const { sizes, latencyMs, log } = options;
  const db = await startDynamoDbLocal({ port: 0 });
  let endpoint: ConnectionsEndpoint | undefined;
  const client = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    // As the deployed handler's client (functions/adapters/aws-clients.ts).
    requestHandler: dynamoRequestHandler(),
  });
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
    return { rows, single, memory, seedSeconds, pageQueryMs, walkMsPerThousandKeys };
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

export interface Context {
  doc: DynamoDBDocumentClient;
  counter: ReturnType<typeof countDynamoRequests>;
  endpoint: Pick<ConnectionsEndpoint, 'url' | 'stats' | 'reset'>;
  latencyMs: number;
  queryTimes: number[];
}

/**
 * Times the walk a broadcast's first invocation makes over the largest topic: the store's
 * `topicPages` as the fan-out calls it (pages of the default size, ten at a time). Keys-only
 * Queries of up to 1 MB each; ms per 1,000 keys read, the median of five after one warm-up.
 */
async function timeWalk(doc: DynamoDBDocumentClient, k: number): Promise<number> {
  const store = new DynamoConnectionStore(doc, TABLES.connections);
  const pageSize = DEFAULT_FAN_OUT_SETTINGS.pageSize;
  const walk = { pageSize, maxPages: PAGES_PER_WALK };
  const keys = Math.min(k, pageSize * PAGES_PER_WALK + 1);
  const times: number[] = [];
  for (let run = 0; run < 6; run++) {
    const started = performance.now();
    await store.topicPages(BENCH_TENANT, topicFor(k), walk);
    if (run > 0) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return ((times[Math.floor(times.length / 2)] ?? 0) / keys) * 1000;
}

/** The real store, timing each page of a topic's connections (for the broadcast model). */
class TimedConnectionStore extends DynamoConnectionStore {
  constructor(
    doc: DynamoDBDocumentClient,
    private readonly times: number[],
    private readonly counter: Context['counter'],
    /** Query requests the broadcast's keys-only walks made, apart from its page Queries. */
    readonly walks = { queries: 0 },
  ) {
    super(doc, TABLES.connections);
  }
  override async topicPages(
    tenant: string,
    topic: string,
    walk: { cursor?: string; pageSize: number; maxPages: number },
  ): Promise<TopicPages> {
    const before = this.counter.counts.requests.Query ?? 0;
    try {
      return await super.topicPages(tenant, topic, walk);
    } finally {
      this.walks.queries += (this.counter.counts.requests.Query ?? 0) - before;
    }
  }
  override async listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number },
  ): Promise<Page<ConnectionRef>> {
    const started = performance.now();
    const found = await super.listForTopic(tenant, topic, page);
    if (found.items.length === page.limit) this.times.push(performance.now() - started);
    return found;
  }
}

/** Herald's fan-out handler over the real adapters; continuations are recorded, not sent. */
export function heraldFanOut(context: Context, concurrency: number) {
  const { doc } = context;
  const continuations = new RecordedContinuations();
  const connections = new TimedConnectionStore(doc, context.queryTimes, context.counter);
  const rejected: string[] = [];
  const handler = makeHandler({
    fanOut: createFanOut({
      connections,
      inbox: new DynamoInbox(doc, TABLES.notifications),
      ledger: new DynamoEventLedger(doc, TABLES.notifications),
      delivery: createSignedPostDelivery(context.endpoint.url, concurrency),
      continuations,
      preferences: new DynamoPreferenceStore(doc, TABLES.notifications, { consistentReads: false }),
      collapses: new DynamoCollapseStore(doc, TABLES.notifications),
      clock: systemClock,
      settings: { ...DEFAULT_FAN_OUT_SETTINGS, concurrency },
    }),
    deadLetters: {
      async reject(_body, reason) {
        rejected.push(reason);
      },
    },
  });
  return { handler, continuations, rejected, walks: connections.walks };
}

let runs = 0;

function audienceFor(shape: Shape, k: number): Audience[] {
  if (shape === 'topic') return [{ topic: topicFor(k) }];
  const audiences: Audience[] = [];
  for (let start = 0; start < k; start += ENVELOPE_LIMITS.users) {
    const users: string[] = [];
    for (let i = start; i < Math.min(k, start + ENVELOPE_LIMITS.users); i++) users.push(userFor(i));
    audiences.push({ users });
  }
  return audiences;
}

export async function runHerald(
  context: Context,
  herald: ReturnType<typeof heraldFanOut>,
  shape: Shape,
  k: number,
  concurrency: number,
): Promise<FanOutRow> {
  const { counter, endpoint } = context;
  const run = ++runs;
  const publishedAt = Date.now();
  const audiences = audienceFor(shape, k);
  // Envelopes beyond 10 would be a second SQS batch; 10,000 users make exactly 10.
  const first = sqsEvent(
    audiences.map((to, index) =>
      publishRecord(envelopeFor(`bench-${run}-${index}`, to), publishedAt),
    ),
  );
  await endpoint.reset();
  const before = counter.snapshot();
  const walksBefore = herald.walks.queries;
  let invocations = 0;
  const measured = await timed(async () => {
    let event: SQSEvent | undefined = first;
    while (event) {
      const response = await herald.handler(event, lambdaContext('herald-fan-out'));
      invocations++;
      if (response.batchItemFailures.length > 0) {
        throw new Error(`fan-out reported ${response.batchItemFailures.length} failed record(s)`);
      }
      const tasks = herald.continuations.pending.splice(0, 10);
      event =
        tasks.length > 0 ? sqsEvent(tasks.map((task) => taskRecord(task, Date.now()))) : undefined;
    }
  });
  if (herald.rejected.length > 0) throw new Error(`dead-lettered: ${herald.rejected.join('; ')}`);
  const dynamo = subtractCounts(counter.snapshot(), before);
  const stats = await endpoint.stats();
  if (stats.distinct !== k || stats.posts !== k) {
    throw new Error(
      `Herald ${shape} K=${k}: ${stats.posts} posts to ${stats.distinct} connections`,
    );
  }
  const pages =
    shape === 'topic' ? Math.max(1, Math.ceil(k / DEFAULT_FAN_OUT_SETTINGS.pageSize)) : k;
  const walkQueries = herald.walks.queries - walksBefore;
  return {
    system: 'herald',
    concurrency,
    shape,
    k,
    notifications: audiences.length,
    invocations,
    seconds: measured.seconds,
    delivered: stats.posts,
    deliveriesPerSecond: stats.posts / measured.seconds,
    bound: concurrency / (context.latencyMs / 1000),
    dynamo,
    queriesPerPage: (totalRequests(dynamo, 'Query') - walkQueries) / pages,
    walkQueries,
    cpuMs: measured.cpuMs,
    peakRssMb: measured.peakRssMb,
    rssGrowthMb: measured.rssGrowthMb,
    peakHeapMb: measured.peakHeapMb,
  };
}

/**
 * The floor: K posts of a notification-sized body over one keep-alive agent with C
 * sockets, C in flight, no signing, no SDK, no DynamoDB.
 */
async function runFloor(context: Context, k: number, concurrency: number): Promise<FanOutRow> {
  const { endpoint } = context;
  const url = new URL(endpoint.url);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const body = Buffer.from(
    notificationFrame(
      toNotification(
        parseEnvelope(envelopeFor(`floor-${k}-${concurrency}`, { topic: topicFor(k) })),
        Date.now(),
      ),
    ),
  );
  const post = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname.replace(/\/+$/, '')}/@connections/${encodeURIComponent(id)}`,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/octet-stream' },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    // Warm: sockets open and the path compiled, as Herald's container is warm.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => post(`floor-warm-${i}`)));
    await endpoint.reset();
    let next = 0;
    const measured = await timed(() =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < k) await post(`floor-${next++}`);
        }),
      ),
    );
    const stats = await endpoint.stats();
    const run = { system: 'floor', concurrency, shape: 'topic', k } as const;
    return baselineRow(context, run, measured, stats.posts, emptyCounts());
  } finally {
    agent.destroy();
  }
}

/** The SDK's default agent keeps 50 sockets per host: the naive fan-out's hidden bound. */
const SDK_DEFAULT_SOCKETS = 50;
let naiveClient: ApiGatewayManagementApiClient | undefined;

async function runNaive(
  context: Context,
  shape: Shape,
  k: number,
  system: 'naive' | 'sequential',
): Promise<FanOutRow> {
  const { counter, endpoint, doc } = context;
  // As the samples make it: defaults throughout.
  naiveClient ??= new ApiGatewayManagementApiClient({ endpoint: endpoint.url });
  const management = naiveClient;
  const audiences = audienceFor(shape, k);
  const envelope = parseEnvelope(envelopeFor(`naive-${++runs}`, { topic: topicFor(k) }));
  const frame = notificationFrame(toNotification(envelope, Date.now()));
  const merged: Audience =
    shape === 'topic'
      ? { topic: topicFor(k) }
      : { users: audiences.flatMap((audience) => ('users' in audience ? audience.users : [])) };
  await endpoint.reset();
  const before = counter.snapshot();
  const measured = await timed(() =>
    naiveFanOut(
      {
        doc,
        tableName: TABLES.naive,
        post: async (connectionId, data) => {
          await management.send(
            new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }),
          );
        },
      },
      merged,
      frame,
      system === 'naive' ? 'unbounded' : 'sequential',
    ),
  );
  const dynamo = subtractCounts(counter.snapshot(), before);
  const stats = await endpoint.stats();
  if (measured.value.delivered !== k || stats.distinct !== k) {
    throw new Error(`${system} ${shape} K=${k}: delivered ${measured.value.delivered}`);
  }
  const concurrency = system === 'naive' ? SDK_DEFAULT_SOCKETS : 1;
  return baselineRow(context, { system, concurrency, shape, k }, measured, stats.posts, dynamo);
}

/** The row of a baseline: one message, one invocation, no page Queries of Herald's kind. */
function baselineRow(
  context: Context,
  run: Pick<FanOutRow, 'system' | 'concurrency' | 'shape' | 'k'>,
  measured: Awaited<ReturnType<typeof timed>>,
  posts: number,
  dynamo: DynamoCounts,
): FanOutRow {
  return {
    ...run,
    notifications: 1,
    invocations: 1,
    seconds: measured.seconds,
    delivered: posts,
    deliveriesPerSecond: posts / measured.seconds,
    bound: run.concurrency / (context.latencyMs / 1000),
    dynamo,
    queriesPerPage: 0,
    walkQueries: 0,
    cpuMs: measured.cpuMs,
    peakRssMb: measured.peakRssMb,
    rssGrowthMb: measured.rssGrowthMb,
    peakHeapMb: measured.peakHeapMb,
  };
}

/** Notifications to one user with one connection each, ten records per invocation. */
async function runSingles(
  context: Context,
  herald: ReturnType<typeof heraldFanOut>,
  count: number,
): Promise<SingleRecipientRun> {
  const { counter, endpoint } = context;
  const batchSize = TOPOLOGY.queues.fanOut.batchSize;
  const run = ++runs;
  const envelopes = Array.from({ length: count }, (_, i) =>
    envelopeFor(`single-${run}-${i}`, { users: [userFor(i)] }),
  );
  const frameBytes = Buffer.byteLength(
    notificationFrame(toNotification(parseEnvelope(envelopes[0]), Date.now())),
  );
  await endpoint.reset();
  const before = counter.snapshot();
  let invocations = 0;
  const measured = await timed(async () => {
    for (let start = 0; start < envelopes.length; start += batchSize) {
      const publishedAt = Date.now();
      const event = sqsEvent(
        envelopes
          .slice(start, start + batchSize)
          .map((envelope) => publishRecord(envelope, publishedAt)),
      );
      const response = await herald.handler(event, lambdaContext('herald-fan-out'));
      invocations++;
      if (response.batchItemFailures.length > 0) throw new Error('a one-recipient record failed');
    }
  });
  const stats = await endpoint.stats();
  if (stats.posts !== count) throw new Error(`one-recipient run: ${stats.posts} of ${count} posts`);
  return {
    notifications: count,
    batchSize,
    invocations,
    seconds: measured.seconds,
    cpuMs: measured.cpuMs,
    dynamo: subtractCounts(counter.snapshot(), before),
    frameBytes,
  };
}
