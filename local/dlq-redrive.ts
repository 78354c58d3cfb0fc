/**
 * Moving dead letters back to the queue they came from. In AWS, SQS's own message-move task
 * does it (`StartMessageMoveTask`); fauxqs has none, so locally each message is received,
 * sent to the source queue with its attributes, and only then deleted: a crash in between
 * leaves a copy in both queues (the consumers' idempotency absorbs it), never none.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

export interface RedriveReport {
  /** Messages moved back (or, with `dryRun`, that would be). */
  moved: number;
  /** How many of them carried each `herald.reason` (`(none)` for those without). */
  reasons: Record<string, number>;
  dryRun: boolean;
}

export interface QueuePair {
  sourceUrl: string;
  deadLetterUrl: string;
}

const REASON = 'herald.reason';
/** How long a received dead letter stays hidden while it is moved (or counted). */
const HOLD_SECONDS = 60;

/** Receives, re-sends and deletes until the dead-letter queue has nothing left to give. */
export async function redriveByCopy(
  sqs: SQSClient,
  queues: QueuePair,
  options: { dryRun?: boolean } = {},
): Promise<RedriveReport> {
  const report: RedriveReport = { moved: 0, reasons: {}, dryRun: options.dryRun ?? false };
  const held: Message[] = [];
  try {
    for (;;) {
      const batch = await receive(sqs, queues.deadLetterUrl, HOLD_SECONDS);
      if (batch.length === 0) break;
      for (const message of batch) {
        count(report, message);
        if (report.dryRun) {
          held.push(message);
          continue;
        }
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queues.sourceUrl,
            MessageBody: message.Body ?? '',
            MessageAttributes: message.MessageAttributes,
          }),
        );
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: queues.deadLetterUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
  } finally {
    // A dry run only looked: what it held becomes visible again at once.
    await release(sqs, queues.deadLetterUrl, held);
  }
  return report;
}

/**
 * The reasons of the messages a dead-letter queue holds, looked at without hiding them
 * (visibility timeout 0): a sample, since SQS may return some messages more than once and
 * others not at all. Stops after `rounds` receives bring nothing new.
 */
export async function peekReasons(
  sqs: SQSClient,
  deadLetterUrl: string,
  rounds = 3,
): Promise<Record<string, number>> {
  const seen = new Map<string, Message>();
  for (let quiet = 0; quiet < rounds; ) {
    const batch = await receive(sqs, deadLetterUrl, 0);
    const fresh = batch.filter((message) => message.MessageId && !seen.has(message.MessageId));
    for (const message of fresh) seen.set(message.MessageId as string, message);
    quiet = fresh.length === 0 ? quiet + 1 : 0;
  }
  const report: RedriveReport = { moved: 0, reasons: {}, dryRun: true };
  for (const message of seen.values()) count(report, message);
  return report.reasons;
}

/** Starts SQS's message-move task back to the original source queue and waits for its end. */
export async function redriveByMoveTask(
  sqs: SQSClient,
  deadLetterUrl: string,
  options: { pollMs?: number; log?: (line: string) => void } = {},
): Promise<number> {
  const sourceArn = await queueArn(sqs, deadLetterUrl);
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn }));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
    );
    const [task] = Results;
    if (task === undefined) continue;
    options.log?.(
      `move task ${task.Status}: ${task.ApproximateNumberOfMessagesMoved ?? 0} of ${task.ApproximateNumberOfMessagesToMove ?? '?'} moved`,
    );
    if (task.Status === 'COMPLETED') return task.ApproximateNumberOfMessagesMoved ?? 0;
    if (task.Status === 'FAILED' || task.Status === 'CANCELLED') {
      throw new Error(`the message-move task ended ${task.Status}: ${task.FailureReason ?? ''}`);
    }
  }
}

export async function messagesWaiting(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0);
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes.QueueArn) throw new Error(`${queueUrl} reported no QueueArn`);
  return Attributes.QueueArn;
}

async function receive(sqs: SQSClient, queueUrl: string, hold: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      VisibilityTimeout: hold,
      WaitTimeSeconds: 1,
    }),
  );
  return Messages;
}

async function release(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

function count(report: RedriveReport, message: Message): void {
  const reason = message.MessageAttributes?.[REASON]?.StringValue ?? '(none)';
  report.reasons[reason] = (report.reasons[reason] ?? 0) + 1;
  report.moved += 1;
}
