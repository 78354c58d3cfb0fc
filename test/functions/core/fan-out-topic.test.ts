import { describe, expect, it } from 'vitest';
import type { Connection } from '#core/model';
import {
  connection,
  drain,
  envelope,
  FIRST,
  PUBLISHED_AT,
  REDELIVERED,
  setup,
  throttled,
} from '#test/support/fan-out-fixtures';

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

  it('does not filter a topic broadcast by preference, nor look any up', async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await connect(connection('s1', 'alice', { topics: ['project.42'] }));
    preferences.tenants.set('acme', { channels: { inapp: false } });
    await fanOut.publish(envelope({ topic: 'project.42' }), FIRST);
    expect(delivery.delivered('s1')).toHaveLength(1);
    expect(preferences.reads).toEqual([]);
  });
});
