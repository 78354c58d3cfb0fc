import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Continuations, DeadLetters, FanOutTask } from '../core/ports';
import { encodeTask } from './queue-messages';

/** SQS caps DelaySeconds at 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/** Hands fan-out work to a later invocation through the fan-out's own queue. */
export class SqsContinuations implements Continuations {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(task: FanOutTask, delaySeconds = 0): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeTask(task),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }
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
