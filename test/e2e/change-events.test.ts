/**
 * Change events (`channels: ["live"]`) end to end, on the launched local stack: envelopes
 * published with `@aws-sdk/client-sns`, `change` frames received by `ws` clients, and what
 * is (not) stored read through the HTTP API and the stack's DynamoDB.
 */
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoChangeLog } from '#adapters/dynamo-change-log';
import { ENV } from '#config/env-names';
import type { Recipient } from '#core/model';
import {
  type E2e,
  eventually,
  queuesEmpty,
  roundTrip,
  startE2e,
  type TestClient,
} from '#test/support/e2e';

let e2e: E2e;
const windowBefore = process.env[ENV.collapseWindowMs];

beforeAll(async () => {
  // A burst of 1,000 publishes takes a second or two on a quiet machine and longer on a busy
  // one; a 2 s window keeps "a handful of pushes" true at any speed. The default 200 ms
  // window's semantics are covered by the fan-out's unit tests.
  process.env[ENV.collapseWindowMs] = '2000';
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
  if (windowBefore === undefined) delete process.env[ENV.collapseWindowMs];
  else process.env[ENV.collapseWindowMs] = windowBefore;
});

const changes = (client: TestClient) =>
  client.frames
    .filter((frame) => frame.type === 'change')
    .map((frame) => frame.change as Record<string, unknown>);

function allHandled(): Promise<void> {
  const { fanOut } = e2e.stack.queues;
  return eventually(() => queuesEmpty(e2e.sqs, [fanOut.url]), 60_000);
}

/** Publishes the envelopes ten to a request, ten requests at a time: one burst. */
async function publishBurst(envelopes: Array<Record<string, unknown>>): Promise<void> {
  const requests: Array<Array<Record<string, unknown>>> = [];
  for (let at = 0; at < envelopes.length; at += 10) requests.push(envelopes.slice(at, at + 10));
  for (let at = 0; at < requests.length; at += 10) {
    await Promise.all(
      requests.slice(at, at + 10).map((batch) =>
        e2e.sns.send(
          new PublishBatchCommand({
            TopicArn: e2e.stack.topicArn,
            PublishBatchRequestEntries: batch.map((envelope, n) => ({
              Id: `m${n}`,
              Message: JSON.stringify(envelope),
            })),
          }),
        ),
      ),
    );
  }
}

/** Resolves once the clock has moved past the current millisecond. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('change events, end to end', () => {
  it('turns a burst of 1,000 change events with one collapseKey into a handful of pushes on every socket, the last included, with nothing stored', async () => {
    const phone = await e2e.connect('cora');
    const laptop = await e2e.connect('cora');
    const change = (seq: number) => ({
      id: `evt-doc-${seq}`,
      type: 'events-changed',
      to: { users: ['cora'] },
      channels: ['live'],
      collapseKey: 'doc.42',
      data: { seq },
    });
    await publishBurst(Array.from({ length: 999 }, (_, n) => change(n + 1)));
    // Published last, in a millisecond of its own: the latest by publish time, hence by id.
    await nextMillisecond();
    await e2e.publish(change(1000));

    for (const client of [phone, laptop]) {
      await eventually(
        () => expect(changes(client).at(-1)).toMatchObject({ data: { seq: 1000 } }),
        60_000,
      );
    }
    await allHandled();
    for (const client of [phone, laptop]) {
      const pushed = changes(client);
      expect(pushed.length).toBeGreaterThanOrEqual(1);
      expect(pushed.length).toBeLessThanOrEqual(20);
      expect(pushed.at(-1)).toMatchObject({
        eventId: 'evt-doc-1000',
        type: 'events-changed',
        collapseKey: 'doc.42',
      });
      // Pushed in publish order: each window's latest.
      const ids = pushed.map((each) => String(each.id));
      expect(ids).toEqual([...ids].sort());
      expect(client.notifications()).toEqual([]);
    }
    // Nothing in the inbox, nothing on the badge.
    expect(await e2e.getJson('/notifications?limit=100', 'cora')).toMatchObject({ items: [] });
    expect(await e2e.getJson('/notifications/unread-count', 'cora')).toMatchObject({ unread: 0 });
  }, 180_000);

  it('tells a client that was offline which kinds changed, on resume', async () => {
    const first = await e2e.connect('otto');
    await e2e.publish({
      id: 'evt-before',
      type: 'account-changed',
      to: { users: ['otto'] },
      channels: ['live'],
    });
    await eventually(() => expect(changes(first)).toHaveLength(1));
    const cursor = String(changes(first)[0]?.id);
    first.socket.terminate();

    await nextMillisecond();
    await e2e.publish({
      id: 'evt-away-1',
      type: 'events-changed',
      to: { users: ['otto'] },
      channels: ['live'],
      collapseKey: 'stream.7',
    });
    await e2e.publish({
      id: 'evt-away-2',
      type: 'streams-changed',
      to: { users: ['otto'] },
      channels: ['live'],
    });
    const log = new DynamoChangeLog(e2e.doc, e2e.stack.tables.notifications);
    const otto: Recipient = { kind: 'user', tenant: 'default', userId: 'otto' };
    await eventually(async () => {
      const kinds = (await log.last(otto)).map((change) => change.kind);
      expect(kinds).toEqual(expect.arrayContaining(['stream.7', 'streams-changed']));
    }, 30_000);

    const again = await e2e.connect('otto');
    const reply = await again.request('resume', { changesSince: cursor });
    expect(reply).toMatchObject({ type: 'reply', ok: true, result: { replayed: 0, more: false } });
    const reported = (reply.result as { changes: Array<Record<string, unknown>> }).changes;
    expect(reported).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'stream.7', type: 'events-changed' }),
        expect.objectContaining({ kind: 'streams-changed', type: 'streams-changed' }),
      ]),
    );
    // Each kind once; none of them replayed one by one.
    expect(new Set(reported.map((each) => each.kind)).size).toBe(reported.length);
    expect(changes(again)).toEqual([]);
  }, 60_000);

  it('pushes a change event to a topic to its subscribers only', async () => {
    const claims = { topics: ['project.*'] };
    const subscriber = await e2e.connect('sam', claims);
    const bystander = await e2e.connect('bea', claims);
    expect(await subscriber.request('subscribe', { topics: ['project.7'] })).toMatchObject({
      ok: true,
    });
    expect(await bystander.request('subscribe', { topics: ['project.8'] })).toMatchObject({
      ok: true,
    });
    await e2e.publish({
      id: 'evt-topic-1',
      type: 'streams-changed',
      to: { topic: 'project.7' },
      channels: ['live'],
      data: { stream: 'diary' },
    });
    await eventually(() =>
      expect(changes(subscriber)).toEqual([
        expect.objectContaining({
          eventId: 'evt-topic-1',
          type: 'streams-changed',
          topic: 'project.7',
          data: { stream: 'diary' },
        }),
      ]),
    );
    await allHandled();
    await roundTrip(bystander);
    expect(changes(bystander)).toEqual([]);
    expect(subscriber.notifications()).toEqual([]);
    // The topic's record says what changed, for subscribers that resume.
    const log = new DynamoChangeLog(e2e.doc, e2e.stack.tables.notifications);
    const topic: Recipient = { kind: 'topic', tenant: 'default', topic: 'project.7' };
    expect((await log.last(topic)).map((change) => change.kind)).toEqual(['streams-changed']);
  }, 60_000);
});
