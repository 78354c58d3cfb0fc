import { describe, expect, it } from 'vitest';
import { retryTaskDelaySeconds } from '#core/fan-out-push';
import {
  connection,
  drain,
  envelope,
  FIRST,
  PUBLISHED_AT,
  setup,
  throttled,
} from '#test/support/fan-out-fixtures';

describe('connections that keep failing', () => {
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
    const { fanOut, delivery, continuations, connect } = setup({ maxTaskAttempts: 3 });
    await connect(connection('a1', 'alice'));
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
});

describe('a retry-connections task (anyone who can send to the queue can write one)', () => {
  const task = (connections: { connectionId: string; userId: string }[], to: object) => ({
    kind: 'retry-connections' as const,
    envelope: envelope(to as never),
    publishedAt: PUBLISHED_AT,
    connections,
    attempt: 1,
  });

  it('pushes only to stored connections of the envelope’s tenant and audience', async () => {
    const { fanOut, delivery, connect } = setup();
    await connect(connection('a1', 'alice'), connection('m1', 'mallory'));
    const report = await fanOut.run(
      task(
        [
          { connectionId: 'a1', userId: 'alice' },
          { connectionId: 'm1', userId: 'mallory' }, // stored, but not in the audience
          { connectionId: 'ghost', userId: 'alice' }, // not stored at all
          { connectionId: 'm1', userId: 'alice' }, // someone else's connection named as alice's
        ],
        { users: ['alice'] },
      ),
    );
    expect(delivery.attemptsOf('a1')).toBe(1);
    expect(delivery.attemptsOf('m1')).toBe(0);
    expect(delivery.attemptsOf('ghost')).toBe(0);
    expect(report).toMatchObject({ delivered: 1 });
  });
});

describe('retryTaskDelaySeconds', () => {
  it('waits whole seconds, at least one, up to 2^attempt', () => {
    expect(retryTaskDelaySeconds(1, () => 0)).toBe(1);
    expect(retryTaskDelaySeconds(1, () => 0.5)).toBe(1);
    expect(retryTaskDelaySeconds(1, () => 0.999)).toBe(2);
    expect(retryTaskDelaySeconds(3, () => 0.5)).toBe(4);
    expect(retryTaskDelaySeconds(3, () => 0.999)).toBe(8);
    for (const attempt of [1, 2, 3, 4, 5]) {
      for (const draw of [0, 0.1, 0.37, 0.5, 0.9, 0.999]) {
        const seconds = retryTaskDelaySeconds(attempt, () => draw);
        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThanOrEqual(2 ** attempt);
      }
    }
  });

  it('never waits longer than 15 minutes, SQS’s longest delay', () => {
    expect(retryTaskDelaySeconds(10, () => 0.999)).toBe(900);
    expect(retryTaskDelaySeconds(30, () => 0.999)).toBe(900);
  });
});
