/**
 * A topic broadcast to 100,000 connections, split the way Herald splits it: the real
 * fan-out core (`createFanOut`) publishes and then runs each `broadcast-page` task it hands
 * on, with in-memory ports that record pages and posts. How long delivery would take in
 * AWS is then modelled from those pages: each page is one invocation, started once the
 * page before it has queried its connections and handed it on, posting at its own rate,
 * all of them together capped by API Gateway's account throttle.
 */
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS } from '../functions/core/fan-out';
import type { ConnectionRef, Envelope, Page } from '../functions/core/model';
import type { CollapseStore, ConnectionStore, FanOutTask } from '../functions/core/ports';

export interface SplitResult {
  connections: number;
  pageSize: number;
  /** Connections per invocation, in the order the invocations ran. */
  pages: number[];
  /** Continuation tasks handed on (one per page after the first). */
  continuations: number;
  delivered: number;
  /** Connections posted to more than once (must be 0). */
  duplicates: number;
  /** Topic queries made (one per page, plus one past the end when the audience is a multiple of the page size). */
  queries: number;
}

/** Runs the real splitting code over `connections` topic subscribers. */
export async function splitBroadcast(connections: number, pageSize: number): Promise<SplitResult> {
  const refs: ConnectionRef[] = Array.from({ length: connections }, (_, i) => ({
    connectionId: `c${i}`,
    userId: `u${i}`,
  }));
  let queries = 0;
  const store: Pick<ConnectionStore, 'listForTopic'> = {
    async listForTopic(_tenant, _topic, page): Promise<Page<ConnectionRef>> {
      queries++;
      const start = page.cursor === undefined ? 0 : Number(page.cursor);
      const end = start + page.limit;
      const items = refs.slice(start, end);
      // As DynamoDB: a full page always says more may follow, even when nothing does.
      return items.length === page.limit ? { items, cursor: String(end) } : { items };
    },
  };
  const posted = new Map<string, number>();
  let postedThisInvocation = 0;
  const tasks: FanOutTask[] = [];
  const unused = () => {
    throw new Error('not used by a broadcast without a collapse key');
  };
  const fanOut = createFanOut({
    connections: store as ConnectionStore,
    inbox: { store: async () => ({ fresh: true }) },
    ledger: { firstPublished: async (_tenant, _id, publishedAt) => publishedAt },
    delivery: {
      async post(connectionId) {
        posted.set(connectionId, (posted.get(connectionId) ?? 0) + 1);
        postedThisInvocation++;
      },
    },
    continuations: {
      async enqueue(task) {
        tasks.push(task);
      },
    },
    preferences: { user: async () => undefined, tenantDefaults: async () => undefined },
    collapses: { offer: unused, adopt: unused, close: unused, settle: unused } as CollapseStore,
    clock: { now: () => Date.now(), sleep: async () => undefined },
    settings: { ...DEFAULT_FAN_OUT_SETTINGS, pageSize },
  });

  const envelope: Envelope = {
    id: 'broadcast-100k',
    type: 'release.published',
    to: { topic: 'everyone' },
    tenant: 'bench',
    title: 'A new release',
    channels: ['inapp'],
  };
  const pages: number[] = [];
  await fanOut.publish(envelope, { publishedAt: Date.now(), redelivered: false });
  pages.push(postedThisInvocation);
  for (let task = tasks.shift(); task; task = tasks.shift()) {
    postedThisInvocation = 0;
    await fanOut.run(task);
    pages.push(postedThisInvocation);
  }
  let duplicates = 0;
  for (const count of posted.values()) if (count > 1) duplicates += count - 1;
  return {
    connections,
    pageSize,
    pages,
    continuations: pages.length - 1,
    delivered: posted.size,
    duplicates,
    queries,
  };
}

export interface BroadcastModel {
  /** Time from an invocation's start to its continuation being handed on (its page Query), ms. */
  handOnMs: number;
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
}

export const SQS_SCALING = { initialConcurrency: 5, concurrencyPerMinute: 300 } as const;

export interface ModelledBroadcast {
  /** When the last connection has its post, s. */
  seconds: number;
  /** The floor the throttle sets: connections ÷ account rate, s. */
  floorSeconds: number;
  /** Most invocations posting at once. */
  peakInvocations: number;
}

/**
 * Fluid model of a split broadcast, in steps of 1 ms. Page n+1 can start handOn + pickup
 * after page n started (its cursor comes from page n's Query), and only when the event
 * source's concurrency allows another invocation. While active, an invocation posts at
 * `invocationRate`, unless the active invocations together would pass `accountRate`, which
 * they then share evenly.
 */
export function modelBroadcast(pages: readonly number[], model: BroadcastModel): ModelledBroadcast {
  const total = pages.reduce((a, b) => a + b, 0);
  const gap = model.handOnMs + model.pickupMs;
  const remaining = [...pages];
  const active = new Set<number>();
  let next = 0;
  let readyAt = 0;
  let done = 0;
  let peakInvocations = 0;
  let t = 0;
  // A bound on the loop, so a model that cannot finish says so instead of spinning.
  const limitMs = 3_600_000;
  while (done < pages.length && t < limitMs) {
    const allowed = model.initialConcurrency + (model.concurrencyPerMinute * t) / 60_000;
    if (next < pages.length && readyAt <= t && active.size < allowed) {
      active.add(next);
      readyAt = t + gap;
      next++;
    }
    peakInvocations = Math.max(peakInvocations, active.size);
    const demand = active.size * model.invocationRate;
    const rate =
      demand > model.accountRate ? model.accountRate / active.size : model.invocationRate;
    for (const i of active) {
      const left = (remaining[i] as number) - rate / 1000;
      remaining[i] = Math.max(0, left);
      if (left <= 1e-9) {
        active.delete(i);
        done++;
      }
    }
    t += 1;
  }
  return { seconds: t / 1000, floorSeconds: total / model.accountRate, peakInvocations };
}
