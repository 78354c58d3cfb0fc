/**
 * Poison messages on the launched local stack: envelopes that can never succeed, published
 * through SNS with the real client, go to the dead-letter queue on their first receive, with
 * `herald.reason`, while the envelopes published after them are delivered as usual.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPOLOGY } from '#config/topology';
import { ENVELOPE_LIMITS } from '#core/envelope';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

let e2e: E2e;
/** What the stack logged: the SQS runners log each batch a handler failed, in whole or part. */
const logs: string[] = [];

beforeAll(async () => {
  e2e = await startE2e({ log: (message) => logs.push(message) });
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

/** Publishes JSON text as it is (a 5,000-level object is past what JSON.stringify can take). */
async function publishText(text: string): Promise<void> {
  await e2e.sns.send(new PublishCommand({ TopicArn: e2e.stack.topicArn, Message: text }));
}

/** An envelope for `userId` as JSON text, its `data` given as raw JSON text. */
function envelopeText(id: string, userId: string, dataJson: string, channels = ['inapp']): string {
  const envelope = { id, type: 'comment.created', to: { users: [userId] }, channels, data: 0 };
  return JSON.stringify(envelope).replace('"data":0', `"data":${dataJson}`);
}

function nestedJson(levels: number, leaf = '1'): string {
  return `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;
}

/** Every message each dead-letter queue held, by queue URL, gathered across polls. */
const deadLettered = new Map<string, Message[]>();

/**
 * The `herald.reason` of the dead letter of an event, once it is there. Messages are kept
 * across polls and tests: a message received once stays invisible for a while, so each
 * poll sees only what is new.
 */
function deadLetterReader(queueUrl: string) {
  const seen = deadLettered.get(queueUrl) ?? [];
  deadLettered.set(queueUrl, seen);
  return async function reasonFor(eventId: string): Promise<string | undefined> {
    const received = await e2e.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    seen.push(...(received.Messages ?? []));
    // Inside SNS's wrapper the envelope's quotes are escaped; sent directly, they are not.
    const marks = [`\\"id\\":\\"${eventId}\\"`, `{"id":"${eventId}"`];
    const message = seen.find((each) => marks.some((mark) => each.Body?.includes(mark)));
    return message?.MessageAttributes?.['herald.reason']?.StringValue;
  };
}

async function messagesIn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await e2e.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/**
 * The proof that each poison message was received exactly once: no handler ever failed a
 * record (a failed record would have been logged, and would come back only after the
 * visibility timeout of minutes), and the source queue holds nothing, not even in flight.
 */
async function expectEachReceivedOnce(queueUrl: string): Promise<void> {
  expect(TOPOLOGY.queues.fanOut.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(60);
  expect(TOPOLOGY.queues.email.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(60);
  await eventually(async () => expect(await messagesIn(queueUrl)).toBe(0));
  expect(logs.filter((line) => line.startsWith('sqs runner:'))).toEqual([]);
}

describe('poison messages, end to end', () => {
  const fanOutDeadLetters = () => deadLetterReader(e2e.stack.queues.fanOut.deadLetterUrl);

  it('dead-letters an envelope whose data nests 5,000 levels at once, with herald.reason, from both consumers', async () => {
    const alice = await e2e.connect('alice', { email: 'alice@example.com' });
    const fanOutReason = fanOutDeadLetters();
    const emailReason = deadLetterReader(e2e.stack.queues.email.deadLetterUrl);

    await publishText(envelopeText('evt-deep', 'alice', nestedJson(5_000), ['inapp', 'email']));
    await e2e.publish({ id: 'evt-after', type: 'comment.created', to: { users: ['alice'] } });

    await eventually(() =>
      expect(alice.notifications().map((each) => each.eventId)).toEqual(['evt-after']),
    );
    const reason = `invalid envelope: data: must nest at most ${ENVELOPE_LIMITS.dataDepth} levels`;
    await eventually(async () => expect(await fanOutReason('evt-deep')).toBe(reason));
    await eventually(async () => expect(await emailReason('evt-deep')).toBe(reason));
    await expectEachReceivedOnce(e2e.stack.queues.fanOut.url);
    await expectEachReceivedOnce(e2e.stack.queues.email.url);
  });

  it('dead-letters at once what DynamoDB would refuse on every attempt', async () => {
    const bob = await e2e.connect('bob');
    const reasonFor = fanOutDeadLetters();
    const poison = {
      'evt-too-deep': nestedJson(ENVELOPE_LIMITS.dataDepth + 1),
      'evt-big-number': '{"id":9007199254740993}',
      'evt-empty-key': '{"":"x"}',
    };
    for (const [id, data] of Object.entries(poison))
      await publishText(envelopeText(id, 'bob', data));
    await e2e.publish({ id: 'evt-fine', type: 'comment.created', to: { users: ['bob'] } });

    await eventually(() =>
      expect(bob.notifications().map((each) => each.eventId)).toEqual(['evt-fine']),
    );
    await eventually(async () =>
      expect(await reasonFor('evt-too-deep')).toMatch(/^invalid envelope: data: must nest/),
    );
    await eventually(async () =>
      expect(await reasonFor('evt-big-number')).toMatch(/^invalid envelope: data: numbers must/),
    );
    await eventually(async () =>
      expect(await reasonFor('evt-empty-key')).toMatch(/^invalid envelope: data: object keys/),
    );
    await expectEachReceivedOnce(e2e.stack.queues.fanOut.url);
  });

  it('dead-letters an envelope sent to the queue directly at the queue size limit, cut to leave its reason room', async () => {
    const reasonFor = fanOutDeadLetters();
    const { Attributes = {} } = await e2e.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: e2e.stack.queues.fanOut.url,
        AttributeNames: ['MaximumMessageSize'],
      }),
    );
    const max = Number(Attributes.MaximumMessageSize);
    const head = JSON.stringify({ id: 'evt-huge', type: 'a', to: { users: ['dan'] }, body: '' });
    const body = head.replace('"body":""', `"body":"${'x'.repeat(max - head.length)}"`);
    expect(Buffer.byteLength(body)).toBe(max);
    await e2e.sqs.send(
      new SendMessageCommand({ QueueUrl: e2e.stack.queues.fanOut.url, MessageBody: body }),
    );
    await eventually(async () =>
      expect(await reasonFor('evt-huge')).toMatch(
        new RegExp(
          `^invalid envelope: must be at most ${ENVELOPE_LIMITS.textBytes} bytes of JSON \\(dead-lettered cut`,
        ),
      ),
    );
    await expectEachReceivedOnce(e2e.stack.queues.fanOut.url);
  });

  it('stores and pushes an envelope at the limits: what passes validation can be delivered', async () => {
    const carol = await e2e.connect('carol');
    // Levels: 29 objects, then one with the numbers at their edges, then a list: 31.
    const data = JSON.parse(
      nestedJson(
        ENVELOPE_LIMITS.dataDepth - 2,
        JSON.stringify({ max: Number.MAX_SAFE_INTEGER, tiny: 1e-130, list: ['\u0001'] }),
      ),
    );
    const envelope = {
      id: 'evt-at-the-limits',
      type: 'comment.created',
      to: { users: ['carol'] },
      title: '\u0001'.repeat(ENVELOPE_LIMITS.titleLength),
      body: '\u0001'.repeat(ENVELOPE_LIMITS.bodyLength),
      url: `https://app.example/${'\u0001'.repeat(ENVELOPE_LIMITS.urlLength - 20)}`,
      data,
    };
    await e2e.publish(envelope);
    await eventually(() => expect(carol.notifications()).toHaveLength(1));
    expect(carol.notifications()[0]).toMatchObject({
      eventId: envelope.id,
      title: envelope.title,
      body: envelope.body,
      url: envelope.url,
      data,
    });
    // Pushed only once stored: it is in the inbox too.
    const token = await e2e.token('carol');
    const response = await fetch(`${e2e.stack.urls.http}/notifications`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await response.json()) as { items: Array<{ eventId: string; data: unknown }> };
    expect(page.items).toEqual([expect.objectContaining({ eventId: envelope.id, data })]);
  });
});
