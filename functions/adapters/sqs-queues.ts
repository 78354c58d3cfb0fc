import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { RetryableError } from '#core/errors';
import type { Continuations, DeadLetters, FanOutTask } from '#core/ports';
import { encodeTask } from './queue-messages';

/** SQS caps DelaySeconds at 15 minutes. */
const MAX_DELAY_SECONDS = 900;
/** SendMessageBatch takes at most 10 messages and 256 KiB of bodies a request. */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 256 * 1024;
/** Requests per batch before entries SQS keeps failing are reported as a retryable failure. */
const MAX_BATCH_ATTEMPTS = 3;

/** Hands tasks, encoded by `encode`, to a later invocation through a consumer's own queue. */
export class SqsTaskQueue<Task> {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly encode: (task: Task) => string,
  ) {}

  async enqueue(task: Task, delaySeconds = 0): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: this.encode(task),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }

  async enqueueMany(tasks: readonly Task[]): Promise<void> {
    for (const batch of batches(tasks.map(this.encode))) await this.sendBatch(batch);
  }

  /** Sends one batch, resending the entries SQS failed on its side. */
  private async sendBatch(bodies: string[]): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = bodies.map((MessageBody, index) => ({
      Id: String(index),
      MessageBody,
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) {
        throw new RetryableError(`SQS kept failing ${pending.length} of a batch of messages`);
      }
      const { Failed = [] } = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      const refused = Failed.find((entry) => entry.SenderFault);
      if (refused) throw new Error(`SQS refused a message: ${refused.Code} ${refused.Message}`);
      const failed = new Set(Failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  }
}

/** Hands fan-out work to a later invocation through the fan-out's own queue. */
export class SqsContinuations extends SqsTaskQueue<FanOutTask> implements Continuations {
  constructor(sqs: SQSClient, queueUrl: string) {
    super(sqs, queueUrl, encodeTask);
  }
}

/** Groups message bodies, in order, into batches SendMessageBatch accepts. */
function batches(bodies: string[]): string[][] {
  const all: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length === BATCH_ENTRIES || (current.length > 0 && bytes + size > BATCH_BYTES)) {
      all.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) all.push(current);
  return all;
}

/**
 * Puts a message that can never be processed straight into the DLQ with its reason as
 * a message attribute, instead of letting it fail `maxReceiveCount` times first.
 */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async reject(body: string, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          'herald.reason': { DataType: 'String', StringValue: reason.slice(0, 1024) },
        },
      }),
    );
  }
}
