import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeEmailQueueMessage,
  encodeEmailTask,
  SqsEmailContinuations,
} from '#adapters/sqs-email-tasks';
import type { EmailTask } from '#core/email-tasks';
import { parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import { snsNotificationBody } from '#test/support/fakes';

const EMAIL_QUEUE = 'https://sqs.us-east-1.amazonaws.com/000000000000/herald-email';
const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1' });

const task: EmailTask = {
  kind: 'email-recipients',
  envelope: parseEnvelope({
    id: 'evt-1',
    type: 'a.b',
    tenant: 'acme',
    to: { users: ['alice', 'bob'] },
    channels: ['email'],
  }),
  publishedAt: 1_795_000_000_000,
  attempt: 2,
};

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});
afterAll(() => sqsMock.restore());

describe('email tasks on the email queue', () => {
  it('decode back to the task they encode', () => {
    expect(decodeEmailQueueMessage(encodeEmailTask(task), 1)).toEqual({ kind: 'email-task', task });
  });

  it('leave SNS notifications to the queue decoder', () => {
    const body = snsNotificationBody(JSON.stringify(task.envelope), '2026-11-23T12:00:00.000Z');
    expect(decodeEmailQueueMessage(body, 1)).toEqual({
      kind: 'publish',
      envelope: task.envelope,
      publishedAt: Date.parse('2026-11-23T12:00:00.000Z'),
    });
  });

  it.each([
    ['a topic audience', { ...task, envelope: { ...task.envelope, to: { topic: 'p.1' } } }],
    ['a negative attempt', { ...task, attempt: -1 }],
    ['an unknown field', { ...task, extra: 1 }],
  ])('refuse a task with %s as invalid', (_, bad) => {
    expect(() => decodeEmailQueueMessage(JSON.stringify({ heraldEmailTask: bad }), 1)).toThrow(
      InvalidEnvelopeError,
    );
  });

  it('go to the email queue, one with its delay or several in a batch', async () => {
    const continuations = new SqsEmailContinuations(client, EMAIL_QUEUE);
    await continuations.enqueue(task, 7);
    await continuations.enqueueMany([task, { ...task, attempt: 0 }]);
    const [single] = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(single).toEqual({
      QueueUrl: EMAIL_QUEUE,
      MessageBody: encodeEmailTask(task),
      DelaySeconds: 7,
    });
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.QueueUrl).toBe(EMAIL_QUEUE);
    expect(batches[0]?.Entries?.map((entry) => entry.MessageBody)).toEqual([
      encodeEmailTask(task),
      encodeEmailTask({ ...task, attempt: 0 }),
    ]);
  });
});
