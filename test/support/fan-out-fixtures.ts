/**
 * A fan-out over fakes, and the envelopes and connections its tests publish to: shared by
 * the tests of core/fan-out and its parts.
 */
import { parseEnvelope } from '#core/envelope';
import { RetryableError } from '#core/errors';
import {
  createFanOut,
  DEFAULT_FAN_OUT_SETTINGS,
  type FanOut,
  type FanOutSettings,
} from '#core/fan-out';
import type { Connection } from '#core/model';
import type { Clock, FanOutTask } from '#core/ports';
import {
  FakeChangeLog,
  FakeClock,
  FakeCollapseStore,
  FakeConnectionStore,
  FakeContinuations,
  FakeDelivery,
  FakeEventLedger,
  FakeInbox,
  FakePreferenceStore,
} from './fakes';

export const PUBLISHED_AT = Date.parse('2026-11-23T12:00:00.000Z');
export const FIRST = { publishedAt: PUBLISHED_AT, redelivered: false };
export const REDELIVERED = { publishedAt: PUBLISHED_AT, redelivered: true };
export const TENANT = 'acme';

/** Envelope `evt-1` to `to`, with `extra` fields over the defaults. */
export function envelope(to: object, extra: object = {}) {
  return parseEnvelope({
    id: 'evt-1',
    type: 'comment.created',
    tenant: TENANT,
    title: 'New comment',
    body: 'Bob replied to your post',
    data: { postId: 42 },
    url: 'https://app.example/posts/42',
    to,
    ...extra,
  });
}

/** A live connection of `userId` in the test tenant (or `options.tenant`). */
export function connection(
  connectionId: string,
  userId: string,
  options: { tenant?: string; topics?: string[] } = {},
): Connection {
  return {
    connectionId,
    userId,
    tenant: options.tenant ?? TENANT,
    topicPatterns: [],
    connectedAt: PUBLISHED_AT - 60_000,
    topics: options.topics ?? [],
  };
}

/** The stores and sockets fan-outs work on, as fakes: shared by every fan-out made over them. */
export function fakeWorld(latencyMs = 0) {
  return {
    store: new FakeConnectionStore(),
    inbox: new FakeInbox(),
    ledger: new FakeEventLedger(),
    delivery: new FakeDelivery(latencyMs),
    continuations: new FakeContinuations(),
    preferences: new FakePreferenceStore(),
    collapses: new FakeCollapseStore(),
    changes: new FakeChangeLog(),
  };
}

export type FakeWorld = ReturnType<typeof fakeWorld>;

/** A fan-out over the world, as one Lambda container would run it. */
export function fanOutOver(world: FakeWorld, clock: Clock, settings: FanOutSettings): FanOut {
  return createFanOut({ ...world, connections: world.store, clock, random: () => 0.5, settings });
}

/** Puts live connections in the world's connection store. */
export function connector(world: FakeWorld) {
  return async (...connections: Connection[]) => {
    for (const c of connections) await world.store.put(c, 0);
  };
}

/** A fan-out over fresh fakes (two tries per post, no real sleeps), and the fakes themselves. */
export function setup(settings: Partial<FanOutSettings> = {}, latencyMs = 0) {
  const world = fakeWorld(latencyMs);
  const clock = new FakeClock();
  const fanOut = fanOutOver(world, clock, {
    ...DEFAULT_FAN_OUT_SETTINGS,
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 100 },
    ...settings,
  });
  return { ...world, clock, fanOut, connect: connector(world) };
}

/** Runs every task handed on, and those they hand on, as later invocations would. */
export async function drain(
  fanOut: FanOut,
  continuations: FakeContinuations,
): Promise<FanOutTask[]> {
  const ran: FanOutTask[] = [];
  for (let next = continuations.tasks.shift(); next; next = continuations.tasks.shift()) {
    // A chain that never ends is a bug; stop it rather than hang the run.
    if (ran.length >= 100) throw new Error('the fan-out keeps handing on tasks');
    ran.push(next.task);
    await fanOut.run(next.task);
  }
  return ran;
}

/** What API Gateway's throttling (429) looks like to the fan-out. */
export const throttled = () => new RetryableError('429 throttled');
