import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedMessageIds, type SqsRunner, startSqsRunner } from '#local/sqs-runner';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Waits for `probe` to return a value, checking every 50 ms, failing after `timeoutMs`. */
async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// Each test has its own queues; concurrency keeps the visibility-timeout waits from adding up.
describe.concurrent('startSqsRunner (against fauxqs)', () => {
  let server: FauxqsServer;
  let sqs: SQSClient;
  const runners: SqsRunner[] = [];
  let queueCount = 0;

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, logger: false });
    sqs = new SQSClient({
      endpoint: server.address,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  afterAll(async () => {
    // Tests run concurrently, so runners are stopped here rather than after each test.
    await Promise.all(runners.map((runner) => runner.stop()));
    sqs?.destroy();
    await server?.stop();
  });

  /** A queue (1 s visibility timeout unless told) with a DLQ after `maxReceiveCount` receives. */
  async function queueWithDlq(maxReceiveCount: number, visibilityTimeoutSeconds = 1) {
    const name = `runner-${++queueCount}`;
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const dlqUrl = dlq.QueueUrl ?? '';
    const dlqArn = await arnOf(dlqUrl);
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
        },
      }),
    );
    const url = queue.QueueUrl ?? '';
    return { url, arn: await arnOf(url), dlqUrl };
  }

  async function arnOf(url: string): Promise<string> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return Attributes?.QueueArn ?? '';
  }

  async function messagesIn(url: string): Promise<number> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible)
    );
  }

  async function send(url: string, bodies: string[]): Promise<void> {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.map((body, index) => ({
          Id: String(index),
          MessageBody: body,
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: 'test' },
            blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
          },
        })),
      }),
    );
  }

  function run(
    queue: { url: string; arn: string },
    handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
  ) {
    const runner = startSqsRunner({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionName: 'test-consumer',
      handler,
      batchSize: 10,
      waitTimeSeconds: 1,
      log: silent,
    });
    runners.push(runner);
    return runner;
  }

  it('deletes the successes of a partial batch, redelivers the failure, then dead-letters it', async ({
    expect,
  }) => {
    const queue = await queueWithDlq(2);
    await send(queue.url, ['a', 'b', 'c']);
    const batches: SQSRecord[][] = [];
    run(queue, async (event) => {
      batches.push(event.Records);
      const failed = event.Records.filter((record) => record.body === 'b');
      return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
    });

    const dead = await eventually(async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }),
      );
      return Messages;
    });

    expect(dead.map((message) => message.Body)).toEqual(['b']);
    // The DLQ move comes a visibility timeout after the second failure: had a or c not been
    // deleted, they would have been redelivered by then.
    expect(batches.map((batch) => batch.map((record) => record.body).sort())).toEqual([
      ['a', 'b', 'c'],
      ['b'],
    ]);
    expect(batches[0]?.map((record) => record.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '1',
      '1',
    ]);
    expect(batches[1]?.[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(await messagesIn(queue.url)).toBe(0);
  });

  it('hands the handler records shaped as Lambda builds them', async ({ expect }) => {
    const queue = await queueWithDlq(5);
    await send(queue.url, ['shape']);
    const seen = deferred();
    let record: SQSRecord | undefined;
    run(queue, async (event) => {
      record = event.Records[0];
      seen.resolve();
      return undefined;
    });
    await seen.promise;

    expect(record).toMatchObject({
      body: 'shape',
      md5OfBody: createHash('md5').update('shape').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      messageAttributes: {
        kind: {
          stringValue: 'test',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        blob: {
          binaryValue: Buffer.from('hi').toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
    });
    expect(record?.messageId).toMatch(/\S/);
    expect(record?.receiptHandle).toMatch(/\S/);
    expect(record?.attributes.ApproximateReceiveCount).toBe('1');
    for (const key of ['SentTimestamp', 'ApproximateFirstReceiveTimestamp'] as const) {
      expect(Number(record?.attributes[key])).toBeGreaterThan(0);
    }
    expect(record?.attributes.SenderId).toMatch(/\S/);
    // Returning nothing means success: the message is deleted.
    await eventually(async () => ((await messagesIn(queue.url)) === 0 ? true : undefined));
  });

  it('deletes nothing when the handler throws', async ({ expect }) => {
    const queue = await queueWithDlq(5);
    await send(queue.url, ['x', 'y']);
    const receiveCounts: string[] = [];
    const runner = run(queue, async (event) => {
      receiveCounts.push(
        ...event.Records.map((record) => record.attributes.ApproximateReceiveCount),
      );
      throw new Error('handler failed');
    });

    // Both messages coming back a second time proves neither was deleted after the first failure.
    await eventually(() =>
      receiveCounts.filter((c) => c === '2').length === 2 ? true : undefined,
    );
    await runner.stop();
    expect(await messagesIn(queue.url)).toBe(2);
  });

  it('fails the whole batch when an item identifier is unknown', async ({ expect }) => {
    const queue = await queueWithDlq(5);
    await send(queue.url, ['p', 'q']);
    const receiveCounts: string[] = [];
    const runner = run(queue, async (event) => {
      receiveCounts.push(
        ...event.Records.map((record) => record.attributes.ApproximateReceiveCount),
      );
      return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
    });

    await eventually(() =>
      receiveCounts.filter((c) => c === '2').length === 2 ? true : undefined,
    );
    await runner.stop();
    expect(await messagesIn(queue.url)).toBe(2);
  });

  function runWithWindow(queue: { url: string; arn: string }, windowMs: number) {
    const batches: string[][] = [];
    const runner = startSqsRunner({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionName: 'test-window',
      handler: async (event) => {
        batches.push(event.Records.map((record) => record.body));
      },
      batchSize: 10,
      maxBatchingWindowMs: windowMs,
      waitTimeSeconds: 1,
      log: silent,
    });
    runners.push(runner);
    return batches;
  }

  it('gathers messages that arrive within the batching window into one invocation', async ({
    expect,
  }) => {
    const queue = await queueWithDlq(5, 30);
    const batches = runWithWindow(queue, 1_500);

    await send(queue.url, ['first']);
    // Once the runner holds the first message, its window is open: the second joins the batch.
    await eventually(async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Attributes?.ApproximateNumberOfMessagesNotVisible === '1' ? true : undefined;
    });
    await send(queue.url, ['second']);

    await eventually(() => (batches.length > 0 ? true : undefined));
    expect(batches).toEqual([['first', 'second']]);
  });

  it('keeps only the newest copy of a message redelivered within the window', async ({
    expect,
  }) => {
    // A visibility timeout shorter than the window makes SQS hand the message out again meanwhile.
    const queue = await queueWithDlq(5, 1);
    await send(queue.url, ['only']);
    const batches = runWithWindow(queue, 2_500);

    await eventually(() => (batches.length > 0 ? true : undefined));
    expect(batches).toEqual([['only']]);
    await eventually(async () => ((await messagesIn(queue.url)) === 0 ? true : undefined));
  });

  it('stop() waits for an invocation in flight, whose messages are then deleted', async ({
    expect,
  }) => {
    const queue = await queueWithDlq(5);
    await send(queue.url, ['slow']);
    const started = deferred();
    const release = deferred();
    const order: string[] = [];
    const runner = run(queue, async () => {
      started.resolve();
      await release.promise;
      order.push('handler finished');
      return undefined;
    });

    await started.promise;
    const stopping = runner.stop().then(() => order.push('stop resolved'));
    // Let every pending callback run: stop() must still be waiting for the handler.
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    release.resolve();
    await stopping;

    expect(order).toEqual(['handler finished', 'stop resolved']);
    expect(runner.stop()).toBe(runner.stop());
    expect(await messagesIn(queue.url)).toBe(0);
  });
});

describe('failedMessageIds (Lambda partial batch response rules)', () => {
  const records = [{ messageId: 'm1' }, { messageId: 'm2' }] as SQSRecord[];

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as complete success', (_label, response) => {
    expect(failedMessageIds(response, records)).toEqual(new Set());
  });

  it('returns the reported ids', () => {
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, records)).toEqual(
      new Set(['m2']),
    );
  });

  it.each([
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a bad key name', { batchItemFailures: [{ itemId: 'm1' }] }],
    ['an unknown message id', { batchItemFailures: [{ itemIdentifier: 'm9' }] }],
    ['a list that is not an array', { batchItemFailures: 'm1' }],
    ['a response that is not an object', 'ok'],
  ])('treats %s as complete failure', (_label, response) => {
    expect(failedMessageIds(response, records)).toBe('all');
  });
});
