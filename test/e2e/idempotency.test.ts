/**
 * Durable idempotency end to end, on the launched local stack: an envelope id re-published
 * after 40 other notifications produces nothing new, for a user, a topic, and an envelope
 * with a `collapseKey`. Published with `@aws-sdk/client-sns`, pushes received by `ws`
 * clients, the inbox and badge read through the HTTP API.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, eventually, inboxEventIds, startE2e, type TestClient } from '#test/support/e2e';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const BETWEEN = 40;

const pushedIds = (client: TestClient) =>
  client.notifications().map((notification) => String(notification.eventId));

/**
 * Everything published so far has been through the fan-out: `marker` (published last) has
 * reached `client`, and the fan-out queue holds nothing, neither waiting nor in flight.
 * Only then can the absence of a second push or row be asserted.
 */
async function fanOutDrained(client: TestClient, marker: string): Promise<void> {
  await eventually(() => expect(pushedIds(client)).toContain(marker), 60_000);
  await eventually(async () => {
    const { Attributes = {} } = await e2e.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: e2e.stack.queues.fanOut.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    });
  }, 60_000);
}

/** Publishes X, waits until it was pushed, then BETWEEN others, waiting until all were pushed. */
async function xThenOthers(
  client: TestClient,
  prefix: string,
  envelope: (id: string) => Record<string, unknown>,
): Promise<string[]> {
  const x = `${prefix}-X`;
  await e2e.publish(envelope(x));
  await eventually(() => expect(pushedIds(client)).toContain(x), 60_000);
  const others = Array.from({ length: BETWEEN }, (_, i) => `${prefix}-other-${i}`);
  // One at a time, each its own publish: 40 newer notifications reach the user after X.
  for (const id of others) await e2e.publish(envelope(id));
  await eventually(() => expect(new Set(pushedIds(client)).size).toBe(BETWEEN + 1), 60_000);
  return [x, ...others];
}

describe('an envelope id re-published after 40 other notifications', () => {
  it('is stored, counted and pushed once for a user', async () => {
    const alice = await e2e.connect('idem-alice');
    const envelope = (id: string) => ({
      id,
      type: 'comment.created',
      to: { users: ['idem-alice'] },
      title: id,
    });
    const [x] = await xThenOthers(alice, 'user', envelope);

    await e2e.publish(envelope(String(x)));
    await e2e.publish(envelope('user-marker'));
    await fanOutDrained(alice, 'user-marker');

    const stored = await inboxEventIds(e2e, 'idem-alice');
    expect(stored).toHaveLength(BETWEEN + 2);
    expect(stored.filter((id) => id === x)).toHaveLength(1);
    expect(await e2e.getJson('/notifications/unread-count', 'idem-alice')).toMatchObject({
      unread: BETWEEN + 2,
    });
    expect(pushedIds(alice).filter((id) => id === x)).toHaveLength(1);
  });

  it('is stored and broadcast once for a topic', async () => {
    const carol = await e2e.connect('idem-carol', { topics: ['idem.*'] });
    const subscribed = await carol.request('subscribe', { topics: ['idem.1'] });
    expect(subscribed).toMatchObject({ ok: true });
    const envelope = (id: string) => ({
      id,
      type: 'comment.created',
      to: { topic: 'idem.1' },
      title: id,
    });
    const [x] = await xThenOthers(carol, 'topic', envelope);

    await e2e.publish(envelope(String(x)));
    await e2e.publish(envelope('topic-marker'));
    await fanOutDrained(carol, 'topic-marker');

    expect(pushedIds(carol).filter((id) => id === x)).toHaveLength(1);
    // The topic's history, replayed from X on: X is not in it a second time.
    const xId = carol.notifications().find((note) => note.eventId === x)?.id;
    const replayer = await e2e.connect('idem-carol', { topics: ['idem.*'] });
    await replayer.request('subscribe', { topics: ['idem.1'] });
    expect(await replayer.request('resume', { since: xId })).toMatchObject({ ok: true });
    await eventually(() => expect(pushedIds(replayer)).toContain('topic-marker'));
    expect(pushedIds(replayer)).not.toContain(x);
    expect(pushedIds(replayer)).toHaveLength(BETWEEN + 1);
  });

  it('is stored and pushed once when it carries a collapseKey', async () => {
    const erin = await e2e.connect('idem-erin');
    const envelope = (id: string) => ({
      id,
      type: 'comment.created',
      to: { users: ['idem-erin'] },
      title: id,
      // Each its own key: every one is delivered, none coalesced into another.
      collapseKey: `post.${id}`,
    });
    const [x] = await xThenOthers(erin, 'collapse', envelope);

    await e2e.publish(envelope(String(x)));
    await e2e.publish(envelope('collapse-marker'));
    await fanOutDrained(erin, 'collapse-marker');

    const stored = await inboxEventIds(e2e, 'idem-erin');
    expect(stored).toHaveLength(BETWEEN + 2);
    expect(stored.filter((id) => id === x)).toHaveLength(1);
    expect(await e2e.getJson('/notifications/unread-count', 'idem-erin')).toMatchObject({
      unread: BETWEEN + 2,
    });
    expect(pushedIds(erin).filter((id) => id === x)).toHaveLength(1);
  });
});
