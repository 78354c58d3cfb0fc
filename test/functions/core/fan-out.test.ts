import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '#core/envelope';
import { RetryableError } from '#core/errors';
import {
  type Arrival,
  createFanOut,
  DEFAULT_FAN_OUT_SETTINGS,
  type FanOut,
  FanOutBatch,
  type FanOutReport,
  type FanOutSettings,
} from '#core/fan-out';
import type { Connection } from '#core/model';
import { isNotificationId } from '#core/notification-id';
import type { Clock, FanOutTask } from '#core/ports';
import {
  FakeClock,
  FakeCollapseStore,
  FakeConnectionStore,
  FakeContinuations,
  FakeDelivery,
  FakeEventLedger,
  FakeInbox,
  FakePreferenceStore,
  ManualClock,
} from '#test/support/fakes';

const PUBLISHED_AT = Date.parse('2026-11-23T12:00:00.000Z');
const FIRST = { publishedAt: PUBLISHED_AT, redelivered: false };
const REDELIVERED = { publishedAt: PUBLISHED_AT, redelivered: true };
const TENANT = 'acme';

function envelope(to: object, extra: object = {}) {
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

function connection(
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

function setup(settings: Partial<FanOutSettings> = {}, latencyMs = 0) {
  const store = new FakeConnectionStore();
  const inbox = new FakeInbox();
  const ledger = new FakeEventLedger();
  const delivery = new FakeDelivery(latencyMs);
  const continuations = new FakeContinuations();
  const clock = new FakeClock();
  const preferences = new FakePreferenceStore();
  const collapses = new FakeCollapseStore();
  const fanOut = createFanOut({
    connections: store,
    inbox,
    ledger,
    delivery,
    continuations,
    preferences,
    collapses,
    clock,
    random: () => 0.5,
    settings: {
      ...DEFAULT_FAN_OUT_SETTINGS,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 100 },
      ...settings,
    },
  });
  const connect = async (...connections: Connection[]) => {
    for (const c of connections) await store.put(c, 0);
  };
  return { store, inbox, delivery, continuations, clock, preferences, collapses, fanOut, connect };
}

/** Runs every task handed on, and those they hand on, as later invocations would. */
async function drain(fanOut: FanOut, continuations: FakeContinuations): Promise<FanOutTask[]> {
  const ran: FanOutTask[] = [];
  for (let next = continuations.tasks.shift(); next; next = continuations.tasks.shift()) {
    // A chain that never ends is a bug; stop it rather than hang the run.
    if (ran.length >= 100) throw new Error('the fan-out keeps handing on tasks');
    ran.push(next.task);
    await fanOut.run(next.task);
  }
  return ran;
}

const throttled = () => new RetryableError('429 throttled');

describe('fan-out to users', () => {
  it('pushes one notification frame to each live connection and prunes the gone one', async () => {
    const { fanOut, delivery, store, connect } = setup();
    await connect(connection('a1', 'alice'), connection('a2', 'alice'), connection('a3', 'alice'));
    delivery.behaviour = (id) => (id === 'a2' ? 'gone' : 'ok');

    const report = await fanOut.publish(envelope({ users: ['alice'] }), FIRST);

    for (const id of ['a1', 'a3']) {
      const frames = delivery.delivered(id);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toEqual({
        type: 'notification',
        notification: {
          id: report.notificationId,
          eventId: 'evt-1',
          type: 'comment.created',
          title: 'New comment',
          body: 'Bob replied to your post',
          data: { postId: 42 },
          url: 'https://app.example/posts/42',
          createdAt: '2026-11-23T12:00:00.000Z',
          read: false,
        },
      });
    }
    expect(isNotificationId(report.notificationId)).toBe(true);
    expect(delivery.delivered('a2')).toEqual([]);
    expect(store.removed).toEqual(['a2']);
    expect([...store.connections.keys()].sort()).toEqual(['a1', 'a3']);
    expect(report).toMatchObject({
      delivered: 2,
      pruned: 1,
      deferred: 0,
      abandoned: 0,
      duplicates: 0,
      problems: [],
    });
  });

  it('stores the notification in each recipient inbox', async () => {
    const { fanOut, inbox } = setup();
    const report = await fanOut.publish(envelope({ users: ['alice', 'bob'] }), FIRST);
    expect([...inbox.items.keys()].sort()).toEqual([
      `acme/user/alice/${report.notificationId}`,
      `acme/user/bob/${report.notificationId}`,
    ]);
  });

  it("never sends alice's notification to bob", async () => {
    const { fanOut, delivery, connect } = setup();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'));
    await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('b1')).toEqual([]);
  });

  it('never crosses tenants: the same user id elsewhere receives nothing', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(
      connection('acme-alice', 'alice'),
      connection('other-alice', 'alice', { tenant: 'other' }),
    );
    await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    expect(delivery.delivered('acme-alice')).toHaveLength(1);
    expect(delivery.delivered('other-alice')).toEqual([]);
    expect([...inbox.items.keys()].every((key) => key.startsWith('acme/'))).toBe(true);
  });

  it('follows every page of a user’s connections', async () => {
    const { fanOut, delivery, store, connect } = setup();
    store.userPageSize = 2;
    await connect(...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => connection(id, 'alice')));
    const report = await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    expect(report.delivered).toBe(5);
    expect(new Set(delivery.posts.map((p) => p.connectionId)).size).toBe(5);
  });

  it('pushes a duplicate publish only once and counts it', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'));
    const to = { users: ['alice', 'bob'] };
    const first = await fanOut.publish(envelope(to), FIRST);
    const second = await fanOut.publish(envelope(to), FIRST);
    expect(second.notificationId).toBe(first.notificationId);
    expect(second.duplicates).toBe(2);
    expect(second.delivered).toBe(0);
    expect(delivery.posts).toHaveLength(2);
    expect(inbox.items.size).toBe(2);
  });

  it('treats a re-published id (a later SNS publish) as the same notification', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'));
    const first = await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    const later = { publishedAt: PUBLISHED_AT + 5_000, redelivered: false };
    const second = await fanOut.publish(envelope({ users: ['alice'] }), later);
    expect(second.notificationId).toBe(first.notificationId);
    expect(second.duplicates).toBe(1);
    expect(delivery.posts).toHaveLength(1);
    expect(inbox.items.size).toBe(1);
  });

  it('pushes a redelivered publish again, with the same notification id', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'));
    await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    const again = await fanOut.publish(envelope({ users: ['alice'] }), REDELIVERED);
    expect(again.duplicates).toBe(1);
    expect(again.delivered).toBe(1);
    const frames = delivery.delivered('a1') as Array<{ notification: { id: string } }>;
    expect(frames).toHaveLength(2);
    expect(frames[0]?.notification.id).toBe(frames[1]?.notification.id);
    expect(inbox.items.size).toBe(1);
  });

  it('hands a connection failing every retry to a later invocation, and only it', async () => {
    const { fanOut, delivery, continuations, connect } = setup();
    await connect(connection('a1', 'alice'), connection('a2', 'alice'), connection('b1', 'bob'));
    let down = true;
    delivery.behaviour = (id) => (id === 'a2' && down ? throttled() : 'ok');
    const env = envelope({ users: ['alice', 'bob'] });

    const report = await fanOut.publish(env, FIRST);

    expect(report).toMatchObject({ delivered: 2, deferred: 1, abandoned: 0 });
    expect(delivery.attemptsOf('a2')).toBe(2);
    expect(continuations.tasks).toHaveLength(1);
    const [handed] = continuations.tasks;
    expect(handed?.task).toEqual({
      kind: 'retry-connections',
      envelope: env,
      publishedAt: PUBLISHED_AT,
      connections: [{ connectionId: 'a2', userId: 'alice' }],
      attempt: 1,
    });
    expect(handed?.delaySeconds).toBeGreaterThan(0);

    down = false;
    const before = delivery.posts.length;
    await drain(fanOut, continuations);
    expect(delivery.posts.slice(before).map((p) => p.connectionId)).toEqual(['a2']);
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('b1')).toHaveLength(1);
    const [late] = delivery.delivered('a2') as Array<{ notification: { id: string } }>;
    expect(late?.notification.id).toBe(report.notificationId);
  });

  it('splits many failed connections over several retry tasks', async () => {
    const { fanOut, delivery, continuations, connect } = setup({ connectionsPerTask: 2 });
    await connect(...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => connection(id, 'alice')));
    delivery.behaviour = () => throttled();
    const report = await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    expect(report.deferred).toBe(5);
    const sizes = continuations.tasks.map(({ task }) =>
      task.kind === 'retry-connections' ? task.connections.length : 0,
    );
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('abandons a connection at maxTaskAttempts and hands on nothing', async () => {
    const { fanOut, delivery, continuations, connect } = setup({ maxTaskAttempts: 3 });
    await connect(connection('a1', 'alice'));
    delivery.behaviour = () => throttled();

    await fanOut.publish(envelope({ users: ['alice'] }), FIRST);
    const ran = await drain(fanOut, continuations);

    expect(ran.map((task) => (task.kind === 'retry-connections' ? task.attempt : -1))).toEqual([
      1, 2, 3,
    ]);
    expect(continuations.tasks).toEqual([]);
    // 2 tries in the first invocation and in each of the 3 tasks.
    expect(delivery.attemptsOf('a1')).toBe(8);
  });

  it('reports the abandoned connection of the last retry task', async () => {
    const { fanOut, delivery, continuations } = setup({ maxTaskAttempts: 3 });
    delivery.behaviour = () => throttled();
    const report = await fanOut.run({
      kind: 'retry-connections',
      envelope: envelope({ users: ['alice'] }),
      publishedAt: PUBLISHED_AT,
      connections: [{ connectionId: 'a1', userId: 'alice' }],
      attempt: 3,
    });
    expect(report).toMatchObject({ abandoned: 1, deferred: 0, delivered: 0 });
    expect(continuations.tasks).toEqual([]);
  });

  it('retries just the user whose store failed, while the others are served', async () => {
    const { fanOut, delivery, inbox, continuations, connect } = setup();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'), connection('c1', 'carol'));
    inbox.failFor.add('acme/user/bob');
    const env = envelope({ users: ['alice', 'bob', 'carol'] });

    const report = await fanOut.publish(env, FIRST);

    expect(report.delivered).toBe(2);
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('c1')).toHaveLength(1);
    expect(delivery.delivered('b1')).toEqual([]);
    expect(report.problems.map((p) => p.what)).toEqual(['user bob']);
    expect(continuations.tasks).toHaveLength(1);
    expect(continuations.tasks[0]?.task).toEqual({
      kind: 'retry-users',
      envelope: { ...env, to: { users: ['bob'] } },
      publishedAt: PUBLISHED_AT,
      attempt: 1,
    });
    expect(continuations.tasks[0]?.delaySeconds).toBeGreaterThan(0);

    inbox.failFor.clear();
    await drain(fanOut, continuations);
    expect(delivery.delivered('b1')).toHaveLength(1);
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('c1')).toHaveLength(1);
  });

  it('throws when a user still fails on the last retry task, so the message is retried', async () => {
    const { fanOut, inbox, continuations } = setup({ maxTaskAttempts: 2 });
    inbox.failFor.add('acme/user/bob');
    await expect(
      fanOut.run({
        kind: 'retry-users',
        envelope: envelope({ users: ['bob'] }),
        publishedAt: PUBLISHED_AT,
        attempt: 2,
      }),
    ).rejects.toThrow(AggregateError);
    expect(continuations.tasks).toEqual([]);
  });

  it('keeps PostToConnection calls within settings.concurrency across users', async () => {
    const { fanOut, delivery, connect } = setup({ concurrency: 4, userConcurrency: 6 }, 2);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    for (const user of users) {
      await connect(
        connection(`${user}-x`, user),
        connection(`${user}-y`, user),
        connection(`${user}-z`, user),
      );
    }
    const report = await fanOut.publish(envelope({ users }), FIRST);
    expect(report.delivered).toBe(18);
    expect(delivery.maxInFlight).toBe(4);
  });

  it('neither stores nor pushes an email-only envelope', async () => {
    const { fanOut, delivery, inbox, continuations, connect } = setup();
    await connect(connection('a1', 'alice'));
    const report = await fanOut.publish(
      envelope({ users: ['alice'] }, { channels: ['email'] }),
      FIRST,
    );
    expect(report.delivered).toBe(0);
    expect(delivery.posts).toEqual([]);
    expect(inbox.storeCalls).toBe(0);
    expect(inbox.items.size).toBe(0);
    expect(continuations.tasks).toEqual([]);
  });
});

describe('fan-out to a topic', () => {
  const TOPIC = 'project.42';

  async function subscribers(connect: (...c: Connection[]) => Promise<void>, count: number) {
    for (let i = 0; i < count; i++) {
      await connect(connection(`s${i}`, `user${i}`, { topics: [TOPIC] }));
    }
  }

  it('pushes the first page and hands on every further page, in one batch, before pushing', async () => {
    const { fanOut, delivery, continuations, connect } = setup({ pageSize: 10 });
    await subscribers(connect, 25);
    const journal: string[] = [];
    delivery.journal = journal;
    continuations.journal = journal;
    const env = envelope({ topic: TOPIC });

    const report = await fanOut.publish(env, FIRST);

    expect(report.delivered).toBe(10);
    const page = (cursor: string, until: string) => ({
      kind: 'broadcast-page',
      envelope: env,
      publishedAt: PUBLISHED_AT,
      cursor,
      until,
    });
    // Key order, as DynamoDB keeps topic entries: s0, s1, s10, …, s17 | s18, s19, s2, s20, …
    expect(continuations.tasks.map(({ task }) => task)).toEqual([
      page('s17', 's4'),
      page('s4', 's9'),
    ]);
    expect(journal[0]).toBe('enqueue many 2');
    expect(journal.slice(1).every((entry) => entry.startsWith('post '))).toBe(true);

    await drain(fanOut, continuations);
    const reached = delivery.posts.map((p) => p.connectionId);
    expect(reached).toHaveLength(25);
    expect(new Set(reached).size).toBe(25);
    // The pages handed on hand nothing on themselves.
    expect(journal.filter((entry) => entry.startsWith('enqueue'))).toEqual(['enqueue many 2']);
  });

  it('sends the topic frame naming the topic, and stores it once for the topic', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await subscribers(connect, 1);
    const report = await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    const [frame] = delivery.delivered('s0') as Array<{ notification: { topic?: string } }>;
    expect(frame?.notification.topic).toBe(TOPIC);
    expect([...inbox.items.keys()]).toEqual([`acme/topic/${TOPIC}/${report.notificationId}`]);
  });

  it('reaches only connections subscribed to that topic in that tenant', async () => {
    const { fanOut, delivery, connect } = setup();
    await connect(
      connection('subscribed', 'alice', { topics: [TOPIC] }),
      connection('unsubscribed', 'alice'),
      connection('other-topic', 'bob', { topics: ['project.43'] }),
      connection('other-tenant', 'carol', { tenant: 'other', topics: [TOPIC] }),
    );
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(delivery.posts.map((p) => p.connectionId)).toEqual(['subscribed']);
  });

  it('pushes a duplicate topic publish once, and again when redelivered', async () => {
    const { fanOut, delivery, connect } = setup();
    await subscribers(connect, 2);
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    const duplicate = await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(duplicate).toMatchObject({ duplicates: 1, delivered: 0 });
    expect(delivery.posts).toHaveLength(2);
    const redelivered = await fanOut.publish(envelope({ topic: TOPIC }), REDELIVERED);
    expect(redelivered).toMatchObject({ duplicates: 1, delivered: 2 });
  });

  it('prunes gone subscribers and defers failing ones on a page', async () => {
    const { fanOut, delivery, store, continuations, connect } = setup();
    await subscribers(connect, 3);
    delivery.behaviour = (id) => (id === 's0' ? 'gone' : id === 's1' ? throttled() : 'ok');
    const report = await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(report).toMatchObject({ delivered: 1, pruned: 1, deferred: 1 });
    expect(store.removed).toEqual(['s0']);
    expect(continuations.tasks.map(({ task }) => task.kind)).toEqual(['retry-connections']);
  });
});

describe('a big broadcast split into pages', () => {
  const TOPIC = 'launch';
  const id = (i: number) => `c${String(i).padStart(6, '0')}`;

  /**
   * A fan-out over a topic of `count` subscribers, recording every walk and listing the
   * store is asked for, and the connection ids of every `until` a walk found.
   */
  async function broadcast(count: number, settings: Partial<FanOutSettings>) {
    const world = setup(settings);
    for (let i = 0; i < count; i++) {
      await world.connect(connection(id(i), `user${i}`, { topics: [TOPIC] }));
    }
    const { store } = world;
    const walks: Array<string | undefined> = [];
    const walked: string[] = [];
    const listings: Array<{ cursor?: string; until?: string }> = [];
    const walk = store.topicPages.bind(store);
    store.topicPages = async (tenant, topic, options) => {
      walks.push(options.cursor);
      const found = await walk(tenant, topic, options);
      walked.push(...found.pages.map((page) => page.until));
      return found;
    };
    const list = store.listForTopic.bind(store);
    store.listForTopic = async (tenant, topic, page) => {
      listings.push({ cursor: page.cursor, until: page.until });
      return list(tenant, topic, page);
    };
    return { ...world, walks, walked, listings };
  }

  function postsPer(posts: Array<{ connectionId: string }>) {
    const counts = new Map<string, number>();
    for (const { connectionId } of posts) {
      counts.set(connectionId, (counts.get(connectionId) ?? 0) + 1);
    }
    return counts;
  }

  it('posts to each of 10,000 subscribers once, one task per page, walking each page once', async () => {
    const { fanOut, delivery, continuations, walks, walked, listings } = await broadcast(10_000, {
      pageSize: 1_000,
    });

    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    const ran = await drain(fanOut, continuations);

    // The publish and nine page tasks: one invocation per page of 1,000.
    expect(ran).toHaveLength(9);
    expect(ran.every((task) => task.kind === 'broadcast-page' && task.until !== undefined)).toBe(
      true,
    );
    expect(listings).toHaveLength(10);
    // One walk, by the publish, from the end of its own page; each page's end found once.
    expect(walks).toEqual([id(999)]);
    expect(walked).toEqual(Array.from({ length: 9 }, (_, page) => id(page * 1_000 + 1_999)));
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(10_000);
    expect(delivery.posts).toHaveLength(10_000);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });

  it('makes no empty page of a topic an exact multiple of the page size long', async () => {
    const exact = await broadcast(20, { pageSize: 10 });
    await exact.fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(await drain(exact.fanOut, exact.continuations)).toHaveLength(1);
    expect(exact.listings).toHaveLength(2);
    expect(exact.delivery.posts).toHaveLength(20);

    const oneMore = await broadcast(21, { pageSize: 10 });
    await oneMore.fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(await drain(oneMore.fanOut, oneMore.continuations)).toHaveLength(2);
    expect(postsPer(oneMore.delivery.posts).size).toBe(21);
  });

  it('walks a small topic not at all: one listing, no task', async () => {
    const { fanOut, delivery, continuations, walks, listings } = await broadcast(10, {
      pageSize: 10,
    });
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(listings).toHaveLength(1);
    expect(walks).toEqual([]);
    expect(continuations.tasks).toEqual([]);
    expect(delivery.posts).toHaveLength(10);
  });

  it('walks at most walkPages pages, handing the remainder on last, to a task that walks on', async () => {
    const { fanOut, delivery, continuations, walks } = await broadcast(100, {
      pageSize: 10,
      walkPages: 3,
    });
    const journal: string[] = [];
    continuations.journal = journal;
    const env = envelope({ topic: TOPIC });

    await fanOut.publish(env, FIRST);

    expect(journal).toEqual(['enqueue many 3', 'enqueue broadcast-page']);
    expect(continuations.tasks.at(-1)?.task).toEqual({
      kind: 'broadcast-page',
      envelope: env,
      publishedAt: PUBLISHED_AT,
      cursor: id(39),
    });
    const ran = await drain(fanOut, continuations);
    // Ten pages, ten invocations: each remainder task posts a page of its own too.
    expect(ran).toHaveLength(9);
    expect(walks).toEqual([id(9), id(49), id(89)]);
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(100);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });

  it('loses no page when the publish crashes half-way through handing them on', async () => {
    const { fanOut, delivery, continuations } = await broadcast(250, { pageSize: 10 });
    const handOn = continuations.enqueueMany.bind(continuations);
    let calls = 0;
    continuations.enqueueMany = async (tasks) => {
      calls++;
      // The first attempt dies after handing on the first ten of its 24 pages.
      if (calls === 2) throw new Error('Lambda timed out');
      await handOn(tasks);
    };
    const env = envelope({ topic: TOPIC });

    await expect(fanOut.publish(env, FIRST)).rejects.toThrow('Lambda timed out');
    expect(continuations.tasks).toHaveLength(10);
    expect(delivery.posts).toEqual([]);
    // SQS delivers the message again: it walks again and hands every page on once more.
    await fanOut.publish(env, REDELIVERED);
    expect(continuations.tasks).toHaveLength(34);
    const ran = await drain(fanOut, continuations);

    expect(ran).toHaveLength(34);
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(250);
    // Pages 2 to 11 were handed on twice, and are posted twice; clients drop the repeat by id.
    expect(delivery.posts).toHaveLength(350);
    expect([...posts.values()].every((count) => count <= 2)).toBe(true);
  });

  it('hands a remainder on once when a crash comes before it, and re-posts a redelivered page', async () => {
    const { fanOut, delivery, continuations } = await broadcast(40, { pageSize: 10, walkPages: 2 });
    const handOn = continuations.enqueue.bind(continuations);
    let failures = 1;
    continuations.enqueue = async (task, delay) => {
      if (failures-- > 0) throw new Error('SQS unavailable');
      await handOn(task, delay);
    };
    const env = envelope({ topic: TOPIC });

    await expect(fanOut.publish(env, FIRST)).rejects.toThrow('SQS unavailable');
    await fanOut.publish(env, REDELIVERED);
    const remainders = continuations.tasks.filter(
      ({ task }) => task.kind === 'broadcast-page' && task.until === undefined,
    );
    expect(remainders).toHaveLength(1);
    // The first page task handed on is delivered twice, as SQS may.
    const page = continuations.tasks.shift();
    if (!page) throw new Error('no page handed on');
    await fanOut.run(page.task);
    await fanOut.run(page.task);
    await drain(fanOut, continuations);

    const posts = postsPer(delivery.posts);
    const timesPosted = (page: number) =>
      new Set(Array.from({ length: 10 }, (_, i) => posts.get(id(page * 10 + i))));
    // Page 1 by both attempts; page 2 by the first attempt's task (twice) and the second's;
    // page 3 by both attempts' tasks; page 4 by the one remainder.
    expect([0, 1, 2, 3].map(timesPosted)).toEqual([
      new Set([2]),
      new Set([3]),
      new Set([2]),
      new Set([1]),
    ]);
  });

  it('posts subscribers who joined inside a page after the walk, and none twice', async () => {
    const { fanOut, delivery, continuations, connect } = await broadcast(20, { pageSize: 10 });
    await fanOut.publish(envelope({ topic: TOPIC }), FIRST);
    expect(continuations.tasks).toHaveLength(1);
    // Joiners sorting inside the second page's range, and one after every range.
    const joiners = ['c000012a', 'c000012b', 'c000012c', 'c000015a'];
    for (const joiner of [...joiners, 'c999999']) {
      await connect(connection(joiner, 'late', { topics: [TOPIC] }));
    }

    const ran = await drain(fanOut, continuations);

    // The page overflows by four: the excess goes to one more task, bounded by the same end.
    expect(ran).toHaveLength(2);
    expect(ran[1]).toMatchObject({ cursor: 'c000015a', until: id(19) });
    const posts = postsPer(delivery.posts);
    expect(posts.size).toBe(24);
    expect(joiners.every((joiner) => posts.get(joiner) === 1)).toBe(true);
    expect([...posts.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('in-app preferences', () => {
  it('neither stores nor pushes a type the user turned off in-app, and serves the others', async () => {
    const { fanOut, delivery, inbox, preferences, connect } = setup();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'));
    preferences.users.set('acme/alice', { types: { 'comment.created': { inapp: false } } });

    const report = await fanOut.publish(envelope({ users: ['alice', 'bob'] }), FIRST);

    expect(delivery.delivered('a1')).toEqual([]);
    expect(delivery.delivered('b1')).toHaveLength(1);
    expect([...inbox.items.keys()]).toEqual([`acme/user/bob/${report.notificationId}`]);
    expect(report).toMatchObject({ muted: 1, delivered: 1 });
  });

  it("follows the tenant's default, and the user's own setting over it", async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'));
    preferences.tenants.set('acme', { types: { 'comment.created': { inapp: false } } });
    preferences.users.set('acme/bob', { channels: { inapp: true } });

    const report = await fanOut.publish(envelope({ users: ['alice', 'bob'] }), FIRST);

    expect(delivery.delivered('a1')).toEqual([]);
    expect(delivery.delivered('b1')).toHaveLength(1);
    expect(report.muted).toBe(1);
  });

  it('reads the tenant defaults once per envelope and each user’s preferences once', async () => {
    const { fanOut, preferences } = setup();
    await fanOut.publish(envelope({ users: ['alice', 'bob', 'carol'] }), FIRST);
    expect([...preferences.reads].sort()).toEqual([
      'tenant acme',
      'user acme/alice',
      'user acme/bob',
      'user acme/carol',
    ]);
  });

  it('reads each preference once for a whole batch', async () => {
    const { fanOut, preferences } = setup();
    const batch = new FanOutBatch();
    await Promise.all(
      ['evt-1', 'evt-2', 'evt-3'].map((id) =>
        fanOut.publish(envelope({ users: ['alice'] }, { id }), { ...FIRST, batch }),
      ),
    );
    expect(preferences.reads.sort()).toEqual(['tenant acme', 'user acme/alice']);
  });

  it('reads the preferences of a batch’s envelopes in one request', async () => {
    const { fanOut, preferences } = setup();
    const batch = new FanOutBatch();
    const users = ['alice', 'bob', 'carol', 'dave'];
    await Promise.all(
      users.map((user, i) =>
        fanOut.publish(envelope({ users: [user] }, { id: `evt-${i}` }), { ...FIRST, batch }),
      ),
    );
    expect(preferences.manyReads).toEqual([users.length + 1]);
  });

  it('asks for the preferences of a big audience at once, each user once', async () => {
    const { fanOut, preferences } = setup();
    const users = Array.from({ length: 250 }, (_, i) => `user-${i}`);
    await fanOut.publish(envelope({ users }), FIRST);
    expect(preferences.manyReads).toEqual([251]);
    expect(preferences.reads).toHaveLength(251);
    expect(new Set(preferences.reads).size).toBe(251);
  });

  it('asks again for a preference whose read failed, in a later read', async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await connect(connection('a1', 'alice'));
    const batch = new FanOutBatch();
    const many = preferences.many.bind(preferences);
    let fail = true;
    preferences.many = async (keys) => {
      if (fail) {
        fail = false;
        throw new Error('throttled');
      }
      return many(keys);
    };
    const first = await fanOut.publish(envelope({ users: ['alice'] }), { ...FIRST, batch });
    expect(first.problems).toHaveLength(1);
    await fanOut.publish(envelope({ users: ['alice'] }, { id: 'evt-2' }), { ...FIRST, batch });
    expect(delivery.delivered('a1')).toHaveLength(1);
  });

  it('does not filter a topic broadcast by preference, nor look any up', async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await connect(connection('s1', 'alice', { topics: ['project.42'] }));
    preferences.tenants.set('acme', { channels: { inapp: false } });
    await fanOut.publish(envelope({ topic: 'project.42' }), FIRST);
    expect(delivery.delivered('s1')).toHaveLength(1);
    expect(preferences.reads).toEqual([]);
  });

  it('looks nothing up for an email-only envelope', async () => {
    const { fanOut, preferences } = setup();
    await fanOut.publish(envelope({ users: ['alice'] }, { channels: ['email'] }), FIRST);
    expect(preferences.reads).toEqual([]);
  });
});

describe('coalescing by collapseKey', () => {
  const KEY = 'post.42';
  const WINDOW = DEFAULT_FAN_OUT_SETTINGS.coalescing.windowMs;

  /** Shared stores (the table, the sockets) and one fan-out per simulated Lambda container. */
  function world() {
    const store = new FakeConnectionStore();
    const inbox = new FakeInbox();
    const ledger = new FakeEventLedger();
    const delivery = new FakeDelivery();
    const continuations = new FakeContinuations();
    const preferences = new FakePreferenceStore();
    const collapses = new FakeCollapseStore();
    const clock = new ManualClock(PUBLISHED_AT);
    const lambda = (options: { clock?: Clock; settings?: Partial<FanOutSettings> } = {}) =>
      createFanOut({
        connections: store,
        inbox,
        ledger,
        delivery,
        continuations,
        preferences,
        collapses,
        clock: options.clock ?? clock,
        random: () => 0.5,
        settings: {
          ...DEFAULT_FAN_OUT_SETTINGS,
          retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
          ...options.settings,
        },
      });
    const connect = async (...connections: Connection[]) => {
      for (const c of connections) await store.put(c, 0);
    };
    return {
      store,
      inbox,
      delivery,
      continuations,
      preferences,
      collapses,
      clock,
      lambda,
      connect,
    };
  }

  /** Envelope `seq` of a series: published `seq` ms after the first, carrying its number. */
  function collapsing(seq: number, to: object = { users: ['alice'] }, extra: object = {}) {
    return envelope(to, { id: `evt-${seq}`, collapseKey: KEY, data: { seq }, ...extra });
  }
  function at(seq: number, extra: Partial<Arrival> = {}): Arrival {
    return { publishedAt: PUBLISHED_AT + seq, redelivered: false, ...extra };
  }
  function seqs(frames: unknown[]): unknown[] {
    return (frames as Array<{ notification: { data: { seq: number } } }>).map(
      (frame) => frame.notification.data.seq,
    );
  }
  function stored(inbox: FakeInbox): unknown[] {
    return [...inbox.items.values()].map((n) => (n.data as { seq: number }).seq);
  }
  function sum(reports: FanOutReport[], field: 'coalesced' | 'delivered' | 'duplicates'): number {
    return reports.reduce((total, report) => total + report[field], 0);
  }
  /** Waits until `count` of the runs have finished (the others wait for a window). */
  async function untilFinished(runs: Array<Promise<unknown>>, count: number): Promise<void> {
    let finished = 0;
    for (const run of runs)
      run.then(
        () => finished++,
        () => finished++,
      );
    for (let turn = 0; turn < 1000 && finished < count; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(finished).toBe(count);
  }

  it('turns a burst of 20 from separate invocations into one push of the last, stored once', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'), connection('a2', 'alice'));
    const fanOut = lambda();
    const runs = Array.from({ length: 20 }, (_, seq) => fanOut.publish(collapsing(seq), at(seq)));

    await untilFinished(runs, 19);
    await clock.untilSleeping(1);
    expect(delivery.posts).toEqual([]);
    clock.advance(WINDOW);
    const reports = await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([19]);
    expect(seqs(delivery.delivered('a2'))).toEqual([19]);
    expect(stored(inbox)).toEqual([19]);
    expect(sum(reports, 'coalesced')).toBe(19);
    expect(sum(reports, 'delivered')).toBe(2);
  });

  it('gathers a batch in memory: one slot write per window, not one per envelope', async () => {
    const { lambda, clock, delivery, inbox, collapses, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const batch = new FanOutBatch();
    const runs = Array.from({ length: 10 }, (_, seq) =>
      fanOut.publish(collapsing(seq), at(seq, { batch })),
    );
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([9]);
    expect(stored(inbox)).toEqual([9]);
    expect(collapses.calls).toEqual(['offer', 'close', 'settle']);
  });

  it('delivers one notification per window: a burst after the window closed is another', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const first = [0, 1, 2].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(first, 2);
    clock.advance(WINDOW);
    await Promise.all(first);

    clock.advance(1000);
    const second = [1000, 1001, 1002].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(second, 2);
    clock.advance(WINDOW);
    await Promise.all(second);

    expect(seqs(delivery.delivered('a1'))).toEqual([2, 1002]);
    expect(stored(inbox).sort()).toEqual([1002, 2]);
  });

  it('keeps collapse keys apart', async () => {
    const { lambda, clock, delivery, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1, 2, 3].map((seq) =>
      fanOut.publish(
        collapsing(seq, undefined, { collapseKey: seq % 2 ? 'odd' : 'even' }),
        at(seq),
      ),
    );
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('a1')).sort()).toEqual([2, 3]);
  });

  it('keeps users apart, and sleeps once for an envelope claiming windows for many users', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'), connection('b1', 'bob'), connection('c1', 'carol'));
    const fanOut = lambda();
    const runs = [
      fanOut.publish(collapsing(0, { users: ['alice', 'bob', 'carol'] }), at(0)),
      fanOut.publish(collapsing(1, { users: ['bob'] }), at(1)),
    ];
    await untilFinished(runs, 1);
    await clock.untilSleeping(1);
    expect(clock.sleeping).toBe(1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    expect(seqs(delivery.delivered('a1'))).toEqual([0]);
    expect(seqs(delivery.delivered('b1'))).toEqual([1]);
    expect(seqs(delivery.delivered('c1'))).toEqual([0]);
    expect(inbox.items.size).toBe(3);
  });

  it('delivers the latest by publish time when envelopes arrive out of order', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [50, 10, 30].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('a1'))).toEqual([50]);

    // Older than what was delivered, arriving after its window: nothing new.
    clock.advance(5000);
    const late = await fanOut.publish(collapsing(20), at(20));
    expect(late.coalesced).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([50]);
    expect(stored(inbox)).toEqual([50]);
  });

  it('does nothing new for a re-publish of any coalesced envelope', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1, 2].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 2);
    clock.advance(WINDOW);
    await Promise.all(runs);

    clock.advance(60_000);
    for (const seq of [0, 1, 2]) {
      // A later SNS publish of the same id: the ledger gives back its first publish time.
      const report = await fanOut.publish(collapsing(seq), at(seq + 60_000));
      expect(report.delivered).toBe(0);
    }
    expect(clock.sleeping).toBe(0);
    expect(seqs(delivery.delivered('a1'))).toEqual([2]);
    expect(stored(inbox)).toEqual([2]);
  });

  it('lets a redelivered claimant finish the window its crashed attempt left open', async () => {
    const { lambda, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    // The claimant's container dies while it sleeps: its clock never moves again.
    const crashed = lambda({ clock: new ManualClock(PUBLISHED_AT) });
    void crashed.publish(collapsing(0), at(0));
    const followers = lambda();
    for (const seq of [1, 2, 3]) {
      expect((await followers.publish(collapsing(seq), at(seq))).coalesced).toBe(1);
    }

    // SQS hands the claimant's message out again after its visibility timeout.
    const redelivery = lambda({ clock: new ManualClock(PUBLISHED_AT + 180_000) });
    const report = await redelivery.publish(collapsing(0), at(0, { redelivered: true }));

    expect(report.delivered).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([3]);
    expect(stored(inbox)).toEqual([3]);
  });

  it('lets a newer envelope adopt a window whose claimant is gone, without waiting for it', async () => {
    const { lambda, delivery, inbox, connect } = world();
    await connect(connection('a1', 'alice'));
    void lambda({ clock: new ManualClock(PUBLISHED_AT) }).publish(collapsing(0), at(0));
    await lambda().publish(collapsing(1), at(1));

    const later = new ManualClock(PUBLISHED_AT + 5000);
    const adopter = lambda({ clock: later }).publish(collapsing(5000), at(5000));
    await later.untilSleeping(1);
    later.advance(WINDOW);
    await adopter;
    expect(seqs(delivery.delivered('a1'))).toEqual([5000]);

    // The dead claimant's message comes back: a newer envelope was delivered, nothing to do.
    const redelivery = lambda({ clock: new ManualClock(PUBLISHED_AT + 180_000) });
    await redelivery.publish(collapsing(0), at(0, { redelivered: true }));
    expect(seqs(delivery.delivered('a1'))).toEqual([5000]);
    expect(stored(inbox)).toEqual([5000]);
  });

  it('recovers a window closed by a claimant that failed before storing it', async () => {
    const { lambda, clock, delivery, inbox, continuations, connect } = world();
    await connect(connection('a1', 'alice'));
    inbox.failFor.add('acme/user/alice');
    continuations.failure = new Error('SQS unavailable');
    const claimant = lambda().publish(collapsing(0), at(0));
    await lambda().publish(collapsing(1), at(1));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    // Nothing could retry alice (SQS is down too): the message fails, to be redelivered.
    await expect(claimant).rejects.toThrow('SQS unavailable');

    // Meanwhile a newer envelope waits for the closing window instead of losing to it.
    const newcomer = lambda().publish(collapsing(300), at(300));
    await clock.untilSleeping(1);

    inbox.failFor.clear();
    continuations.failure = undefined;
    const redelivered = await lambda({ clock: new ManualClock(clock.time) }).publish(
      collapsing(0),
      at(0, { redelivered: true }),
    );
    expect(redelivered.delivered).toBe(1);
    expect(seqs(delivery.delivered('a1'))).toEqual([1]);

    clock.advance(DEFAULT_FAN_OUT_SETTINGS.coalescing.pollMs);
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await newcomer;
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 300]);
    expect(stored(inbox).sort()).toEqual([1, 300]);
  });

  it('fails the messages a batch held only in memory when their window failed, so none is lost', async () => {
    const { lambda, clock, delivery, inbox, continuations, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const batch = new FanOutBatch();
    inbox.failFor.add('acme/user/alice');
    const leader = fanOut.publish(collapsing(0), at(0, { batch }));
    const member = fanOut.publish(collapsing(1), at(1, { batch }));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);

    await expect(member).rejects.toThrow(/store failed/);
    expect((await leader).problems.map((p) => p.what)).toEqual(['user alice']);
    inbox.failFor.clear();

    // The leader's retry task finishes its window; the member's message comes back after it.
    const [task] = continuations.tasks.splice(0);
    expect(task?.task.kind).toBe('retry-users');
    if (task) await fanOut.run(task.task);
    const again = fanOut.publish(collapsing(1), at(1, { redelivered: true }));
    await clock.untilSleeping(1);
    clock.advance(WINDOW);
    await again;

    expect(seqs(delivery.delivered('a1'))).toEqual([0, 1]);
    expect(stored(inbox).sort()).toEqual([0, 1]);
  });

  it('pushes the delivered latest again when the claimant is redelivered after settling', async () => {
    const { lambda, clock, delivery, connect } = world();
    await connect(connection('a1', 'alice'));
    const fanOut = lambda();
    const runs = [0, 1].map((seq) => fanOut.publish(collapsing(seq), at(seq)));
    await untilFinished(runs, 1);
    clock.advance(WINDOW);
    await Promise.all(runs);

    await fanOut.publish(collapsing(0), at(0, { redelivered: true }));
    await fanOut.publish(collapsing(1), at(1, { redelivered: true }));
    // Once more by the claimant's redelivery (it may have died before pushing); a
    // redelivered follower pushes nothing, its claimant did.
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 1]);
  });

  it('coalesces a topic: one broadcast and one history entry per window', async () => {
    const { lambda, clock, delivery, inbox, connect } = world();
    await connect(
      connection('s1', 'alice', { topics: ['project.42'] }),
      connection('s2', 'bob', { topics: ['project.42'] }),
    );
    const fanOut = lambda();
    const runs = [0, 1, 2, 3, 4].map((seq) =>
      fanOut.publish(collapsing(seq, { topic: 'project.42' }), at(seq)),
    );
    await untilFinished(runs, 4);
    clock.advance(WINDOW);
    await Promise.all(runs);
    expect(seqs(delivery.delivered('s1'))).toEqual([4]);
    expect(seqs(delivery.delivered('s2'))).toEqual([4]);
    expect([...inbox.items.keys()]).toEqual([expect.stringMatching(/^acme\/topic\/project\.42\//)]);
  });

  it('skips a muted user before any collapse window is opened for them', async () => {
    const { lambda, delivery, collapses, inbox, preferences, connect } = world();
    await connect(connection('a1', 'alice'));
    preferences.users.set('acme/alice', { channels: { inapp: false } });
    const report = await lambda().publish(collapsing(0), at(0));
    expect(report.muted).toBe(1);
    expect(collapses.calls).toEqual([]);
    expect(delivery.posts).toEqual([]);
    expect(inbox.items.size).toBe(0);
  });

  it('costs nothing extra without a collapseKey, and ignores the key when the window is 0', async () => {
    const { lambda, delivery, collapses, connect } = world();
    await connect(connection('a1', 'alice'));
    await lambda().publish(envelope({ users: ['alice'] }), FIRST);
    expect(collapses.calls).toEqual([]);

    const off = lambda({
      settings: { coalescing: { ...DEFAULT_FAN_OUT_SETTINGS.coalescing, windowMs: 0 } },
    });
    for (const seq of [11, 12, 13]) await off.publish(collapsing(seq), at(seq));
    expect(collapses.calls).toEqual([]);
    expect(delivery.delivered('a1')).toHaveLength(4);
  });
});
