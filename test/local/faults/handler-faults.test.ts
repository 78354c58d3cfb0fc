import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultPlan } from '#local/faults/fault-plan';
import { handlerFaults, invokeFaulted } from '#local/faults/handler-faults';
import { lambdaContext } from '#local/lambda-context';
import { type SqsRunner, startSqsRunner } from '#local/sqs-runner';
import { startTestQueues, type TestQueues } from '#test/support/fauxqs-queues';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const record = (body: string) => ({ messageId: body, body }) as SQSRecord;

describe('handlerFaults (the dice of one function)', () => {
  it('crashes every invocation at rate 1, part way through its batch', () => {
    const roll = handlerFaults({ handlers: { crashRate: 1 }, seed: 1 }, 'f');
    for (let i = 0; i < 50; i++) {
      const fault = roll(5);
      expect(fault?.kind).toBe('crash');
      if (fault?.kind === 'crash') expect(fault.handledRecords).toBeLessThan(5);
    }
  });

  it('overruns every invocation at rate 1, never faults at rate 0', () => {
    const overrun = handlerFaults({ handlers: { overrunRate: 1 } }, 'f');
    expect(overrun(3)).toEqual({ kind: 'overrun' });
    const none = handlerFaults({ handlers: { crashRate: 0, overrunRate: 0 } }, 'f');
    expect(Array.from({ length: 100 }, () => none(3)).filter(Boolean)).toEqual([]);
  });

  it('repeats its faults for the same seed and function', () => {
    const plan: FaultPlan = { handlers: { crashRate: 0.2, overrunRate: 0.2 }, seed: 4 };
    const faults = () => {
      const roll = handlerFaults(plan, 'herald-fan-out');
      return Array.from({ length: 100 }, () => roll(10));
    };
    const first = faults();
    expect(first.some((fault) => fault?.kind === 'crash')).toBe(true);
    expect(first.some((fault) => fault?.kind === 'overrun')).toBe(true);
    expect(first.some((fault) => fault === undefined)).toBe(true);
    expect(faults()).toEqual(first);
  });
});

describe('invokeFaulted', () => {
  const context = lambdaContext('f') as Context;
  const records = ['a', 'b', 'c', 'd'].map(record);

  it('a crash hands the handler the records before it, and loses the result', async () => {
    const seen: string[][] = [];
    const handler = async (event: SQSEvent) => {
      seen.push(event.Records.map((each) => each.body));
      throw new Error('lost anyway');
    };
    await invokeFaulted({ kind: 'crash', handledRecords: 2 }, handler, records, context);
    await invokeFaulted({ kind: 'crash', handledRecords: 0 }, handler, records, context);
    expect(seen).toEqual([['a', 'b']]);
  });

  it('an overrun lets the whole batch be worked on', async () => {
    const seen: string[][] = [];
    await invokeFaulted(
      { kind: 'overrun' },
      async (event) => {
        seen.push(event.Records.map((each) => each.body));
        return { batchItemFailures: [] };
      },
      records,
      context,
    );
    expect(seen).toEqual([['a', 'b', 'c', 'd']]);
  });
});

describe.concurrent('SQS runner with handler faults (against fauxqs)', () => {
  let queues: TestQueues;
  const runners: SqsRunner[] = [];
  let created = 0;

  beforeAll(async () => {
    queues = await startTestQueues();
  });

  afterAll(async () => {
    await Promise.all(runners.map((runner) => runner.stop()));
    await queues?.stop();
  });

  const messagesIn = (url: string) => queues.messagesIn(url);

  async function queueOf(bodies: string[]) {
    const { QueueUrl = '' } = await queues.sqs.send(
      new CreateQueueCommand({
        QueueName: `faults-${++created}`,
        Attributes: { VisibilityTimeout: '1' },
      }),
    );
    await queues.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    return { url: QueueUrl, arn: await queues.arnOf(QueueUrl) };
  }

  /** Runs a handler that always succeeds (and says so in a partial batch response) under `plan`. */
  async function runUnder(plan: FaultPlan, bodies: string[]) {
    const queue = await queueOf(bodies);
    const handled: SQSRecord[] = [];
    /** The size of each batch the runner received, faulted or not. */
    const batches: number[] = [];
    const roll = handlerFaults(plan, 'faulted');
    const runner = startSqsRunner({
      sqs: queues.sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionName: 'faulted',
      handler: async (event) => {
        handled.push(...event.Records);
        return { batchItemFailures: [] };
      },
      batchSize: 10,
      waitTimeSeconds: 1,
      log: silent,
      faults: (records) => {
        batches.push(records);
        return roll(records);
      },
    });
    runners.push(runner);
    return { queue, handled, batches, runner };
  }

  async function until(probe: () => boolean | Promise<boolean>): Promise<void> {
    while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  it('a crash deletes nothing and works on only part of each batch: the batch comes back', async ({
    expect,
  }) => {
    const { queue, handled, batches, runner } = await runUnder({ handlers: { crashRate: 1 } }, [
      'x',
      'y',
      'z',
    ]);
    // Three invocations: the messages came back twice after crashed ones.
    await until(() => batches.length >= 3);
    await runner.stop();
    expect(await messagesIn(queue.url)).toBe(3);
    const received = batches.reduce((sum, size) => sum + size, 0);
    expect(handled.length).toBeLessThan(received);
  });

  it('an overrun deletes nothing though the handler answered success: the batch comes back', async ({
    expect,
  }) => {
    const { queue, handled, runner } = await runUnder({ handlers: { overrunRate: 1 } }, [
      'x',
      'y',
      'z',
    ]);
    const redelivered = () =>
      new Set(
        handled
          .filter((each) => Number(each.attributes.ApproximateReceiveCount) >= 2)
          .map((each) => each.body),
      );
    await until(() => redelivered().size === 3);
    await runner.stop();
    expect(await messagesIn(queue.url)).toBe(3);
  });

  it('deletes as usual when the plan rolls no fault', async ({ expect }) => {
    const { queue, handled } = await runUnder({ handlers: { crashRate: 0, overrunRate: 0 } }, [
      'p',
      'q',
    ]);
    await until(async () => (await messagesIn(queue.url)) === 0);
    expect(handled.map((each) => each.body).sort()).toEqual(['p', 'q']);
  });
});
