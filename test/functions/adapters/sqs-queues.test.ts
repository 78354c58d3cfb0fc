import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeQueueMessage } from '../../../functions/adapters/queue-messages';
import { SqsContinuations, SqsDeadLetters } from '../../../functions/adapters/sqs-queues';
import { parseEnvelope } from '../../../functions/core/envelope';
import type { FanOutTask } from '../../../functions/core/ports';

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
