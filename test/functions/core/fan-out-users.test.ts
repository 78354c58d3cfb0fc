import { describe, expect, it } from 'vitest';
import { isNotificationId } from '#core/notification-id';
import {
  connection,
  drain,
  envelope,
  FIRST,
  PUBLISHED_AT,
  REDELIVERED,
  setup,
} from '#test/support/fan-out-fixtures';

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
          seen: false,
          archived: false,
          interacted: false,
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
});

describe('in-app preferences of users', () => {
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

  it('asks for the preferences of a big audience at once, each user once', async () => {
    const { fanOut, preferences } = setup();
    const users = Array.from({ length: 250 }, (_, i) => `user-${i}`);
    await fanOut.publish(envelope({ users }), FIRST);
    expect(preferences.manyReads).toEqual([251]);
    expect(preferences.reads).toHaveLength(251);
    expect(new Set(preferences.reads).size).toBe(251);
  });
});
