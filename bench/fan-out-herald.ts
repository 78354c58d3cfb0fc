/**
 * Herald's side of the fan-out bench: its real fan-out handler over its real adapters on
 * DynamoDB Local, posting through `SignedPostDelivery` to the `@connections` stand-in. One
 * container is modelled: the publish and then every continuation it hands on
 * (`broadcast-page` tasks, recorded instead of sent to SQS) run one after another through
 * the same handler, as successive invocations of one warm Lambda.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createSignedPostDelivery } from '#adapters/aws-clients';
import { DynamoChangeLog } from '#adapters/dynamo-change-log';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { TOPOLOGY } from '#config/topology';
import { parseEnvelope } from '#core/envelope';
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS, PAGES_PER_WALK } from '#core/fan-out';
import { frameOf } from '#core/fan-out-push';
import type { ConnectionRef, Page } from '#core/model';
import { type Continuations, type FanOutTask, systemClock, type TopicPages } from '#core/ports';
import { makeHandler } from '#handlers/fan-out';
import { lambdaContext } from '#local/lambda-context';
import { type DynamoCounts, subtractCounts, totalRequests } from './dynamo-counter';
import {
  audienceFor,
  envelopeFor,
  type FanOutRow,
  nextRun,
  type RunContext,
  type Shape,
  TABLES,
} from './fan-out-scenario';
import { timed } from './measure';
import { BENCH_TENANT, topicFor, userFor } from './seed';
import { publishRecord, sqsEvent, taskRecord } from './sqs-events';

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

/** The real store, timing each page of a topic's connections (for the broadcast model). */
class TimedConnectionStore extends DynamoConnectionStore {
  constructor(
    doc: DynamoDBDocumentClient,
    private readonly times: number[],
    private readonly counter: RunContext['counter'],
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
export function heraldFanOut(context: RunContext, concurrency: number) {
  const { doc } = context;
  const continuations = new RecordedContinuations();
  const connections = new TimedConnectionStore(doc, context.queryTimes, context.counter);
  const rejected: string[] = [];
  const handler = makeHandler({
    fanOut: createFanOut({
      connections,
      inbox: new DynamoFanOutInbox(doc, TABLES.notifications),
      ledger: new DynamoEventLedger(doc, TABLES.notifications),
      delivery: createSignedPostDelivery(context.endpoint.url, concurrency),
      continuations,
      preferences: new DynamoPreferenceStore(doc, TABLES.notifications, { consistentReads: false }),
      collapses: new DynamoCollapseStore(doc, TABLES.notifications),
      changes: new DynamoChangeLog(doc, TABLES.notifications),
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

export type HeraldFanOut = ReturnType<typeof heraldFanOut>;

export async function runHerald(
  context: RunContext,
  herald: HeraldFanOut,
  shape: Shape,
  k: number,
  concurrency: number,
): Promise<FanOutRow> {
  const { counter, endpoint } = context;
  const run = nextRun();
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
 * Notifications (or, with `envelopes: changeEnvelopeFor`, change events) to one user with one
 * connection each, ten records per invocation.
 */
export async function runSingles(
  context: RunContext,
  herald: HeraldFanOut,
  count: number,
  make: (id: string, to: { users: string[] }) => Record<string, unknown> = envelopeFor,
): Promise<SingleRecipientRun> {
  const { counter, endpoint } = context;
  const batchSize = TOPOLOGY.queues.fanOut.batchSize;
  const run = nextRun();
  const envelopes = Array.from({ length: count }, (_, i) =>
    make(`single-${run}-${i}`, { users: [userFor(i)] }),
  );
  const frameBytes = Buffer.byteLength(frameOf(parseEnvelope(envelopes[0]), Date.now()));
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

/**
 * Times the walk a broadcast's first invocation makes over the largest topic: the store's
 * `topicPages` as the fan-out calls it (pages of the default size, ten at a time). Keys-only
 * Queries of up to 1 MB each; ms per 1,000 keys read, the median of five after one warm-up.
 */
export async function timeWalk(doc: DynamoDBDocumentClient, k: number): Promise<number> {
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
