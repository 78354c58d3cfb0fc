import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../functions/core/envelope';
import { RetryableError } from '../../../functions/core/errors';
import {
  createFanOut,
  DEFAULT_FAN_OUT_SETTINGS,
  type FanOut,
  type FanOutSettings,
} from '../../../functions/core/fan-out';
import type { Connection } from '../../../functions/core/model';
import { isNotificationId } from '../../../functions/core/notification-id';
import type { FanOutTask } from '../../../functions/core/ports';
import {
  FakeClock,
  FakeConnectionStore,
  FakeContinuations,
  FakeDelivery,
  FakeEventLedger,
  FakeInbox,
} from '../../support/fakes';

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
  const fanOut = createFanOut({
    connections: store,
    inbox,
    ledger,
    delivery,
    continuations,
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
  return { store, inbox, delivery, continuations, clock, fanOut, connect };
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

  it('pushes the first page and hands on the next one before pushing', async () => {
    const { fanOut, delivery, continuations, connect } = setup({ pageSize: 10 });
    await subscribers(connect, 25);
    const journal: string[] = [];
    delivery.journal = journal;
    continuations.journal = journal;
    const env = envelope({ topic: TOPIC });

    const report = await fanOut.publish(env, FIRST);

    expect(report.delivered).toBe(10);
    expect(continuations.tasks).toHaveLength(1);
    expect(continuations.tasks[0]?.task).toEqual({
      kind: 'broadcast-page',
      envelope: env,
      publishedAt: PUBLISHED_AT,
      cursor: expect.any(String),
    });
    expect(journal[0]).toBe('enqueue broadcast-page');
    expect(journal.slice(1).every((entry) => entry.startsWith('post '))).toBe(true);

    await drain(fanOut, continuations);
    const reached = delivery.posts.map((p) => p.connectionId);
    expect(reached).toHaveLength(25);
    expect(new Set(reached).size).toBe(25);
    expect(journal.filter((entry) => entry === 'enqueue broadcast-page')).toHaveLength(2);
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
