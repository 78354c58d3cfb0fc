import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeQueueMessage } from '#adapters/queue-messages';
import { SqsContinuations, SqsDeadLetters } from '#adapters/sqs-queues';
import { parseEnvelope } from '#core/envelope';
import { RetryableError } from '#core/errors';
import type { FanOutTask } from '#core/ports';

const FAN_OUT_QUEUE = 'https://sqs.us-east-1.amazonaws.com/000000000000/herald-fan-out';
const DLQ = 'https://sqs.us-east-1.amazonaws.com/000000000000/herald-fan-out-dlq';

const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1' });

const task: FanOutTask = {
  kind: 'retry-connections',
  envelope: parseEnvelope({ id: 'evt-1', type: 'a.b', to: { users: ['alice'] } }),
  publishedAt: 1_795_000_000_000,
  connections: [{ connectionId: 'c1', userId: 'alice' }],
  attempt: 1,
};

function sentInputs() {
  return sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});
afterAll(() => sqsMock.restore());

describe('SqsContinuations', () => {
  it('sends the task to the fan-out queue in a body the consumer decodes back', async () => {
    await new SqsContinuations(client, FAN_OUT_QUEUE).enqueue(task, 4);
    const [input] = sentInputs();
    expect(input).toEqual({
      QueueUrl: FAN_OUT_QUEUE,
      MessageBody: expect.any(String),
      DelaySeconds: 4,
    });
    expect(decodeQueueMessage(input?.MessageBody ?? '', 0)).toEqual({ kind: 'task', task });
  });

  it.each([
    [undefined, 0],
    [0, 0],
    [-5, 0],
    [2.4, 2],
    [2.6, 3],
    [900, 900],
    [901, 900],
    [86_400, 900],
  ])('sends delay %s as DelaySeconds %s (SQS allows 0 to 900)', async (delay, expected) => {
    await new SqsContinuations(client, FAN_OUT_QUEUE).enqueue(task, delay);
    expect(sentInputs()[0]?.DelaySeconds).toBe(expected);
  });

  describe('enqueueMany', () => {
    const page = (n: number, extra: object = {}): FanOutTask => ({
      kind: 'broadcast-page',
      envelope: parseEnvelope({ id: 'evt-2', type: 'a.b', to: { topic: 'news' }, ...extra }),
      publishedAt: 1_795_000_000_000,
      cursor: `from-${n}`,
      until: `until-${n}`,
    });
    const batches = () =>
      sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);

    beforeEach(() => {
      sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    });

    it('sends ten tasks a request, in order, in bodies the consumer decodes back', async () => {
      const tasks = Array.from({ length: 23 }, (_, n) => page(n));
      await new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany(tasks);

      expect(batches().map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
      expect(batches().every((input) => input.QueueUrl === FAN_OUT_QUEUE)).toBe(true);
      const bodies = batches().flatMap((input) => input.Entries ?? []);
      expect(new Set(bodies.map((entry) => entry.Id)).size).toBe(10);
      expect(bodies.map((entry) => decodeQueueMessage(entry.MessageBody ?? '', 0))).toEqual(
        tasks.map((task) => ({ kind: 'task', task })),
      );
      expect(sentInputs()).toEqual([]);
    });

    it('keeps each request within 256 KiB of bodies', async () => {
      // Near the envelope's limits: 16 KB of data and 4,096 three-byte characters of body.
      const big = { data: { blob: 'x'.repeat(16_000) }, body: '€'.repeat(4_096) };
      const tasks = Array.from({ length: 10 }, (_, n) => page(n, big));
      await new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany(tasks);

      const sizes = batches().map((input) =>
        (input.Entries ?? []).reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0),
      );
      expect(sizes.length).toBeGreaterThan(1);
      expect(sizes.every((size) => size <= 256 * 1024)).toBe(true);
      expect(batches().flatMap((input) => input.Entries ?? [])).toHaveLength(10);
    });

    it('resends only the entries SQS failed on its side', async () => {
      sqsMock
        .on(SendMessageBatchCommand)
        .resolvesOnce({
          Successful: [],
          Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
        })
        .resolves({ Successful: [], Failed: [] });
      await new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany([page(0), page(1), page(2)]);

      const [first, second] = batches();
      expect(first?.Entries).toHaveLength(3);
      expect(second?.Entries?.map((entry) => entry.Id)).toEqual(['1']);
      expect(decodeQueueMessage(second?.Entries?.[0]?.MessageBody ?? '', 0)).toEqual({
        kind: 'task',
        task: page(1),
      });
    });

    it('gives up with a retryable error when SQS keeps failing an entry', async () => {
      sqsMock.on(SendMessageBatchCommand).resolves({
        Successful: [],
        Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
      });
      await expect(
        new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany([page(0)]),
      ).rejects.toBeInstanceOf(RetryableError);
      expect(batches()).toHaveLength(3);
    });

    it('fails at once on an entry SQS refuses as the sender’s fault', async () => {
      sqsMock.on(SendMessageBatchCommand).resolves({
        Successful: [],
        Failed: [{ Id: '0', Code: 'InvalidParameterValue', SenderFault: true }],
      });
      await expect(
        new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany([page(0)]),
      ).rejects.toThrow('InvalidParameterValue');
      expect(batches()).toHaveLength(1);
    });

    it('sends nothing for no tasks', async () => {
      await new SqsContinuations(client, FAN_OUT_QUEUE).enqueueMany([]);
      expect(batches()).toEqual([]);
    });
  });

  it('lets a send failure reach the caller', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('AWS.SimpleQueueService.NonExistentQueue'));
    await expect(new SqsContinuations(client, FAN_OUT_QUEUE).enqueue(task)).rejects.toThrow(
      'NonExistentQueue',
    );
  });
});

describe('SqsDeadLetters', () => {
  it('sends the untouched body to the DLQ with the reason as herald.reason', async () => {
    await new SqsDeadLetters(client, DLQ).reject('{"broken":', 'invalid envelope: not JSON');
    expect(sentInputs()).toEqual([
      {
        QueueUrl: DLQ,
        MessageBody: '{"broken":',
        MessageAttributes: {
          'herald.reason': { DataType: 'String', StringValue: 'invalid envelope: not JSON' },
        },
      },
    ]);
  });

  it('cuts a long reason to 1024 characters', async () => {
    await new SqsDeadLetters(client, DLQ).reject('{}', 'x'.repeat(5000));
    const reason = sentInputs()[0]?.MessageAttributes?.['herald.reason']?.StringValue;
    expect(reason).toHaveLength(1024);
  });
});
