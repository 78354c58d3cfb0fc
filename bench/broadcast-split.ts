/**
 * A topic broadcast to 100,000 connections, split the way Herald splits it: the real
 * fan-out core (`createFanOut`) publishes and then runs every `broadcast-page` task it hands
 * on, over in-memory ports that record what each invocation asked of DynamoDB and SQS, and
 * when, on a clock of its own that measured request times move on. How long delivery would
 * take in AWS is then modelled from those invocations: each task starts once it has been
 * handed on and picked up, posts at its invocation's rate, and all of them together are
 * capped by API Gateway's account throttle.
 */
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS, type FanOutSettings } from '#core/fan-out';
import type { ConnectionRef, Envelope, Page } from '#core/model';
import type {
  CollapseStore,
  ConnectionStore,
  FanOutTask,
  TopicPages,
  TopicRange,
} from '#core/ports';

/** What the requests an invocation makes take, ms. */
export interface SplitTimings {
  /** One Query of a page of 1,000 topic connections (other page sizes in proportion). */
  pageQueryMs: number;
  /** Walking 1,000 of a topic's keys with keys-only Queries. */
  walkMsPerThousandKeys: number;
  /** One SendMessage. */
  sendMs: number;
  /** One SendMessageBatch of up to 10 tasks. */
  sendBatchMs: number;
}

/** SendMessageBatch takes ten messages a request (the adapter's batches). */
const SEND_BATCH = 10;

/** One invocation of the split: the publish, or a task an earlier one handed on. */
export interface SplitInvocation {
  /** The invocation that handed this one on; -1 for the publish. */
  parent: number;
  /** Handed on after the parent's posting ended (the remainder of a long topic), or before. */
  afterPosting: boolean;
  /** When it was handed on: ms after the parent started, or after its posting ended. */
  sentAtMs: number;
  /** From its start to its first post: its Queries and what it handed on first, ms. */
  postsAtMs: number;
  /** What it does once its posts are done (hand on a remainder), ms. */
  tailMs: number;
  connections: number;
}

export interface SplitResult {
  connections: number;
  pageSize: number;
  /** In the order they ran: the publish first. */
  invocations: SplitInvocation[];
  /** Tasks handed on. */
  continuations: number;
  delivered: number;
  /** Connections posted to more than once (must be 0). */
  duplicates: number;
  /** Page listings: one Query each. */
  queries: number;
  /** Walks of the topic's keys (`topicPages` calls), and the keys they read. */
  walks: number;
  walkedKeys: number;
  /** SQS requests: SendMessage and SendMessageBatch. */
  sends: number;
}

/** What one invocation did, on its own clock. */
class Trace {
  clock = 0;
  postsAt: number | undefined;
  posts = 0;
  readonly sent: Array<{ task: FanOutTask; atMs: number; afterPosting: boolean }> = [];
  advance(ms: number): void {
    this.clock += ms;
  }
  post(): void {
    this.postsAt ??= this.clock;
    this.posts++;
  }
  send(task: FanOutTask): void {
    const afterPosting = this.postsAt !== undefined;
    this.sent.push({ task, afterPosting, atMs: this.clock - (this.postsAt ?? 0) });
  }
}

/** Runs the real splitting code over `connections` topic subscribers. */
export async function splitBroadcast(
  connections: number,
  pageSize: number,
  timings: SplitTimings,
  settings: Partial<FanOutSettings> = {},
): Promise<SplitResult> {
  const refs: ConnectionRef[] = Array.from({ length: connections }, (_, i) => ({
    connectionId: `c${i}`,
    userId: `u${i}`,
  }));
  // A cursor is the index of the last entry read: the entries' key order is their order here.
  const after = (cursor: string | undefined) => (cursor === undefined ? 0 : Number(cursor) + 1);
  let trace = new Trace();
  let queries = 0;
  let walks = 0;
  let walkedKeys = 0;
  let sends = 0;
  const store: Pick<ConnectionStore, 'listForTopic' | 'topicPages'> = {
    async listForTopic(_tenant, _topic, page): Promise<Page<ConnectionRef>> {
      queries++;
      trace.advance((timings.pageQueryMs * page.limit) / 1000);
      const start = after(page.cursor);
      const end = page.until === undefined ? refs.length : Number(page.until) + 1;
      const items = refs.slice(start, Math.min(end, start + page.limit));
      // As the adapter: a cursor only when more follow.
      return start + items.length < end
        ? { items, cursor: String(start + items.length - 1) }
        : { items };
    },
    async topicPages(_tenant, _topic, walk): Promise<TopicPages> {
      walks++;
      const start = after(walk.cursor);
      const keys = Math.min(refs.length - start, walk.pageSize * walk.maxPages + 1);
      walkedKeys += keys;
      trace.advance((timings.walkMsPerThousandKeys * keys) / 1000);
      const pages: TopicRange[] = [];
      for (let first = start; first < refs.length; first += walk.pageSize) {
        const cursor = first === 0 ? undefined : String(first - 1);
        if (pages.length === walk.maxPages) return { pages, rest: cursor };
        pages.push({ cursor, until: String(Math.min(first + walk.pageSize, refs.length) - 1) });
      }
      return { pages };
    },
  };
  const posted = new Map<string, number>();
  const unused = () => {
    throw new Error('not used by a broadcast without a collapse key');
  };
  const fanOut = createFanOut({
    connections: store as ConnectionStore,
    inbox: { store: async () => ({ fresh: true }) },
    ledger: { firstPublished: async (_tenant, _id, publishedAt) => publishedAt },
    changes: { note: unused, last: unused },
    delivery: {
      async post(connectionId) {
        trace.post();
        posted.set(connectionId, (posted.get(connectionId) ?? 0) + 1);
      },
    },
    continuations: {
      async enqueue(task) {
        sends++;
        trace.advance(timings.sendMs);
        trace.send(task);
      },
      async enqueueMany(tasks) {
        for (let start = 0; start < tasks.length; start += SEND_BATCH) {
          sends++;
          trace.advance(timings.sendBatchMs);
          for (const task of tasks.slice(start, start + SEND_BATCH)) trace.send(task);
        }
      },
    },
    preferences: { many: async (keys) => keys.map(() => undefined) },
    collapses: { offer: unused, adopt: unused, close: unused, settle: unused } as CollapseStore,
    clock: { now: () => Date.now(), sleep: async () => undefined },
    settings: { ...DEFAULT_FAN_OUT_SETTINGS, ...settings, pageSize },
  });

  const envelope: Envelope = {
    id: 'broadcast-100k',
    type: 'release.published',
    to: { topic: 'everyone' },
    tenant: 'bench',
    title: 'A new release',
    channels: ['inapp'],
  };
  const invocations: SplitInvocation[] = [];
  const queue: Array<{ task?: FanOutTask; parent: number; afterPosting: boolean; atMs: number }> = [
    { parent: -1, afterPosting: false, atMs: 0 },
  ];
  for (let next = queue.shift(); next; next = queue.shift()) {
    trace = new Trace();
    if (next.task) await fanOut.run(next.task);
    else await fanOut.publish(envelope, { publishedAt: Date.now(), redelivered: false });
    const postsAt = trace.postsAt ?? trace.clock;
    invocations.push({
      parent: next.parent,
      afterPosting: next.afterPosting,
      sentAtMs: next.atMs,
      postsAtMs: postsAt,
      tailMs: trace.clock - postsAt,
      connections: trace.posts,
    });
    const index = invocations.length - 1;
    for (const sent of trace.sent) {
      queue.push({
        task: sent.task,
        parent: index,
        afterPosting: sent.afterPosting,
        atMs: sent.atMs,
      });
    }
  }
  let duplicates = 0;
  for (const count of posted.values()) if (count > 1) duplicates += count - 1;
  return {
    connections,
    pageSize,
    invocations,
    continuations: invocations.length - 1,
    delivered: posted.size,
    duplicates,
    queries,
    walks,
    walkedKeys,
    sends,
  };
}

export interface BroadcastModel {
  /** SQS → Lambda: from a task being sent to its invocation starting, ms. */
  pickupMs: number;
  /** Posts per second one invocation sustains (its concurrency ÷ latency, or its CPU). */
  invocationRate: number;
  /** API Gateway's account-wide PostToConnection throttle, per second. */
  accountRate: number;
  /**
   * Lambda's SQS event source: it starts with 5 concurrent batches and adds up to 300 a
   * minute while messages wait (AWS Lambda developer guide, "Configuring scaling behavior
   * for SQS event source mappings").
   */
  initialConcurrency: number;
  concurrencyPerMinute: number;
  /** Most messages one invocation takes from the queue: the event source's batch size. */
  batchSize: number;
}

export const SQS_SCALING = { initialConcurrency: 5, concurrencyPerMinute: 300 } as const;

export interface ModelledBroadcast {
  /** When the last connection has its post, s. */
  seconds: number;
  /** The floor the throttle sets: connections ÷ account rate, s. */
  floorSeconds: number;
  /** Most invocations running at once. */
  peakInvocations: number;
  /** When the last task could start (handed on and picked up), s. */
  lastReadySeconds: number;
}

interface Run {
  readyAt?: number;
  startAt?: number;
  remaining: number;
  postingEnd?: number;
  doneAt?: number;
}

/**
 * Fluid model of a split broadcast, in steps of 1 ms. A task can start `pickupMs` after it
 * was handed on, when the event source's concurrency allows another invocation, which takes
 * up to `batchSize` waiting tasks. Each posts from `postsAtMs` after its start; an
 * invocation posts at `invocationRate`, shared by its tasks, unless the invocations together
 * would pass `accountRate`, which they then share evenly.
 */
export function modelBroadcast(
  invocations: readonly SplitInvocation[],
  model: BroadcastModel,
): ModelledBroadcast {
  const total = invocations.reduce((sum, each) => sum + each.connections, 0);
  const runs: Run[] = invocations.map((each) => ({ remaining: each.connections }));
  const children = invocations.map(() => [] as number[]);
  invocations.forEach((each, index) => {
    if (each.parent >= 0) children[each.parent]?.push(index);
  });
  const handOn = (parent: number, afterPosting: boolean, at: number) => {
    for (const child of children[parent] ?? []) {
      const sent = invocations[child] as SplitInvocation;
      const run = runs[child] as Run;
      if (sent.afterPosting === afterPosting) run.readyAt = at + sent.sentAtMs + model.pickupMs;
    }
  };
  if (runs[0]) runs[0].readyAt = 0;
  const active: number[][] = [];
  let done = 0;
  let lastPost = 0;
  let lastReady = 0;
  let peakInvocations = 0;
  let t = 0;
  // A bound on the loop, so a model that cannot finish says so instead of spinning.
  const limitMs = 3_600_000;
  while (done < runs.length && t < limitMs) {
    for (let i = active.length - 1; i >= 0; i--) {
      const batch = active[i] as number[];
      if (batch.every((index) => (runs[index]?.doneAt ?? Number.POSITIVE_INFINITY) <= t)) {
        active.splice(i, 1);
      }
    }
    const allowed = model.initialConcurrency + (model.concurrencyPerMinute * t) / 60_000;
    const waiting = runs
      .map((run, index) => ({ run, index }))
      .filter(
        ({ run }) => run.startAt === undefined && run.readyAt !== undefined && run.readyAt <= t,
      )
      .sort((a, b) => (a.run.readyAt as number) - (b.run.readyAt as number));
    while (waiting.length > 0 && active.length < allowed) {
      const batch = waiting.splice(0, model.batchSize).map(({ index }) => index);
      for (const index of batch) {
        const run = runs[index] as Run;
        run.startAt = t;
        lastReady = Math.max(lastReady, run.readyAt as number);
        handOn(index, false, t);
      }
      active.push(batch);
    }
    peakInvocations = Math.max(peakInvocations, active.length);
    const posting = active.map((batch) =>
      batch.filter((index) => {
        const run = runs[index] as Run;
        const postsAt = (run.startAt as number) + (invocations[index] as SplitInvocation).postsAtMs;
        return run.postingEnd === undefined && postsAt <= t;
      }),
    );
    const demand = posting.filter((batch) => batch.length > 0).length * model.invocationRate;
    const share = demand > model.accountRate ? model.accountRate / demand : 1;
    for (const batch of posting) {
      for (const index of batch) {
        const run = runs[index] as Run;
        run.remaining -= (model.invocationRate * share) / batch.length / 1000;
        if (run.remaining > 1e-9) continue;
        run.postingEnd = t + 1;
        run.doneAt = run.postingEnd + (invocations[index] as SplitInvocation).tailMs;
        if ((invocations[index] as SplitInvocation).connections > 0) lastPost = run.postingEnd;
        handOn(index, true, run.postingEnd);
        done++;
      }
    }
    t += 1;
  }
  return {
    seconds: lastPost / 1000,
    floorSeconds: total / model.accountRate,
    peakInvocations,
    lastReadySeconds: lastReady / 1000,
  };
}
