/**
 * An SQS event-source runner for the local stack: it polls a queue and invokes a Lambda handler
 * in-process the way Lambda's SQS event source mapping (with `ReportBatchItemFailures`) does.
 * Retries, visibility timeouts and dead-lettering stay with the queue itself: a failed message is
 * simply not deleted, comes back after the visibility timeout, and the queue's RedrivePolicy
 * moves it to the DLQ on the receive after `maxReceiveCount` (fauxqs does this on receive, as SQS).
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { type HandlerFaults, invokeFaulted } from '#local/faults/handler-faults';
import { lambdaContext } from './lambda-context';

/** Compatible with `console` and with a Powertools `Logger`. */
export interface RunnerLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export type SqsHandler = (
  event: SQSEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: as aws-lambda's SQSHandler, so handlers returning nothing fit
) => Promise<SQSBatchResponse | void>;

export interface SqsRunnerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  functionName: string;
  handler: SqsHandler;
  /** Records per invocation, 1–10000; above 10 needs a batching window, as in Lambda. */
  batchSize: number;
  /** How long to keep gathering records for a batch once the first arrived (Lambda's MaximumBatchingWindowInSeconds). */
  maxBatchingWindowMs?: number;
  /** Long-poll wait, 0–20 s. `stop()` may wait this long for a poll in progress. */
  waitTimeSeconds: number;
  /** Pollers working in parallel, each invoking the handler with its own batches. */
  concurrency?: number;
  log?: RunnerLog;
  /** Crashes and overruns injected on demand (`FaultPlan.handlers`); none when absent. */
  faults?: HandlerFaults;
}

export interface SqsRunner {
  /** Stops polling, waits for polls and invocations in flight, then resolves. Idempotent. */
  stop(): Promise<void>;
}

/** The most messages one ReceiveMessage or DeleteMessageBatch call takes. */
const SQS_BATCH_LIMIT = 10;
/** Pause after a failed ReceiveMessage (endpoint down, queue missing) before polling again. */
const RECEIVE_RETRY_MS = 1_000;
/** Pause between empty short polls while a batching window is open and under a second remains. */
const WINDOW_POLL_MS = 50;
/** Pause after an empty short poll when the runner is configured not to long-poll. */
const IDLE_POLL_MS = 200;

export function startSqsRunner(options: SqsRunnerOptions): SqsRunner {
  const { sqs, queueUrl, queueArn, functionName, handler, batchSize, waitTimeSeconds } = options;
  const windowMs = options.maxBatchingWindowMs ?? 0;
  const concurrency = options.concurrency ?? 1;
  const log = options.log ?? console;
  validate(batchSize, windowMs, waitTimeSeconds, concurrency);
  const awsRegion = regionOf(queueArn);

  let stopping = false;
  let wakeSleepers: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    wakeSleepers = resolve;
  });

  async function receive(max: number, waitSeconds: number): Promise<Message[]> {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  }

  /** One long poll, then, with a batching window, more polls until the batch is full or the window closes. */
  async function collectBatch(): Promise<Message[]> {
    const batch = await receive(Math.min(batchSize, SQS_BATCH_LIMIT), waitTimeSeconds);
    if (batch.length === 0 || windowMs <= 0) return batch;
    const deadline = Date.now() + windowMs;
    while (batch.length < batchSize && !stopping) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      // Whole seconds only, so a long poll never outlasts the window.
      const waitSeconds = Math.min(20, Math.floor(remainingMs / 1000));
      const more = await receive(Math.min(batchSize - batch.length, SQS_BATCH_LIMIT), waitSeconds);
      keepLatest(batch, more);
      if (more.length === 0 && waitSeconds === 0) {
        await sleep(Math.min(remainingMs, WINDOW_POLL_MS), stopRequested);
      }
    }
    return batch;
  }

  async function invoke(messages: Message[]): Promise<void> {
    const records = messages.flatMap((message) => toRecord(message, queueArn, awsRegion));
    const context = lambdaContext(functionName);
    const fault = options.faults?.(records.length);
    if (fault) {
      await invokeFaulted(fault, handler, records, context);
      log.info('injected handler fault; the batch returns after the visibility timeout', {
        functionName,
        awsRequestId: context.awsRequestId,
        fault: fault.kind,
      });
      return;
    }
    let response: unknown;
    try {
      response = await handler({ Records: records }, context);
    } catch (error) {
      // As in Lambda: a thrown error fails the whole batch; nothing is deleted.
      log.error('SQS handler failed; the batch returns after the visibility timeout', {
        functionName,
        awsRequestId: context.awsRequestId,
        messageIds: records.map((record) => record.messageId),
        error: errorSummary(error),
      });
      return;
    }
    const failed = failedMessageIds(response, records);
    if (failed === 'all') {
      log.warn('SQS handler reported an invalid batch response; the whole batch failed', {
        functionName,
        awsRequestId: context.awsRequestId,
        messageIds: records.map((record) => record.messageId),
      });
      return;
    }
    if (failed.size > 0) {
      log.warn('SQS handler reported failed messages; they return after the visibility timeout', {
        functionName,
        awsRequestId: context.awsRequestId,
        failedMessageIds: [...failed],
      });
    }
    await deleteRecords(records.filter((record) => !failed.has(record.messageId)));
  }

  async function deleteRecords(records: SQSRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += SQS_BATCH_LIMIT) {
      const chunk = records.slice(start, start + SQS_BATCH_LIMIT);
      try {
        const { Failed } = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
        if (Failed && Failed.length > 0) {
          log.warn('Some processed messages could not be deleted and will be redelivered', {
            functionName,
            failures: Failed.map((entry) => ({
              messageId: chunk[Number(entry.Id)]?.messageId,
              code: entry.Code,
            })),
          });
        }
      } catch (error) {
        // Not deleted means redelivered later: a duplicate, never a loss.
        log.error('Deleting processed messages failed; they will be redelivered', {
          functionName,
          messageIds: chunk.map((record) => record.messageId),
          error: errorSummary(error),
        });
      }
    }
  }

  async function poll(): Promise<void> {
    while (!stopping) {
      let batch: Message[];
      try {
        batch = await collectBatch();
      } catch (error) {
        log.error('ReceiveMessage failed; retrying', {
          functionName,
          queueUrl,
          error: errorSummary(error),
        });
        await sleep(RECEIVE_RETRY_MS, stopRequested);
        continue;
      }
      if (batch.length === 0) {
        // Short polling (waitTimeSeconds 0) on an empty queue would otherwise spin.
        if (waitTimeSeconds === 0) await sleep(IDLE_POLL_MS, stopRequested);
        continue;
      }
      // Messages received are in flight even when stop() came meanwhile: invoke, never drop them.
      await invoke(batch).catch((error: unknown) => {
        // Unreachable in practice (invoke handles its own failures); kept so a poller never dies.
        log.error('SQS runner failed to process a batch', {
          functionName,
          error: errorSummary(error),
        });
      });
    }
  }

  const pollers = Array.from({ length: concurrency }, () => poll());
  let stopped: Promise<void> | undefined;

  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wakeSleepers();
        await Promise.all(pollers);
      })();
      return stopped;
    },
  };
}

/**
 * Adds received messages to a batch. A message seen again (its visibility timeout ran out inside
 * the batching window) replaces its earlier copy: only the newest receipt handle can delete it.
 */
function keepLatest(batch: Message[], received: Message[]): void {
  for (const message of received) {
    const index = batch.findIndex((held) => held.MessageId === message.MessageId);
    if (index === -1) batch.push(message);
    else batch[index] = message;
  }
}

/**
 * Reads a partial batch response as Lambda does: nothing, `{}` or an empty/null
 * `batchItemFailures` means success; an item without a known message id, or a response of the
 * wrong shape, fails the whole batch.
 */
export function failedMessageIds(response: unknown, records: SQSRecord[]): Set<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'all';
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const known = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown =
      typeof failure === 'object' && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== 'string' || !known.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

function toRecord(message: Message, queueArn: string, awsRegion: string): SQSRecord[] {
  if (!message.MessageId || !message.ReceiptHandle) return [];
  const received = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ...received,
    ApproximateReceiveCount: received.ApproximateReceiveCount ?? '1',
    SentTimestamp: received.SentTimestamp ?? '',
    SenderId: received.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: received.ApproximateFirstReceiveTimestamp ?? '',
  };
  return [
    {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? '',
      attributes,
      messageAttributes: toLambdaAttributes(message.MessageAttributes),
      md5OfBody: message.MD5OfBody ?? '',
      ...(message.MD5OfMessageAttributes
        ? { md5OfMessageAttributes: message.MD5OfMessageAttributes }
        : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion,
    },
  ];
}

/** SQS API attributes to the camel-cased, base64-binary shape Lambda hands to functions. */
function toLambdaAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map(base64),
      dataType: value.DataType ?? 'String',
    };
  }
  return result;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function regionOf(queueArn: string): string {
  const [prefix, partition, service, region] = queueArn.split(':');
  if (prefix !== 'arn' || !partition || service !== 'sqs' || !region) {
    throw new RangeError(`queueArn is not an SQS queue ARN: ${queueArn}`);
  }
  return region;
}

function validate(batchSize: number, windowMs: number, waitSeconds: number, concurrency: number) {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new RangeError(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
  }
  if (batchSize > SQS_BATCH_LIMIT && windowMs < 1_000) {
    throw new RangeError(
      'A batchSize above 10 needs maxBatchingWindowMs of at least 1000, as in Lambda',
    );
  }
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 20) {
    throw new RangeError(`waitTimeSeconds must be an integer from 0 to 20, got ${waitSeconds}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (!Number.isFinite(windowMs) || windowMs < 0 || windowMs > 300_000) {
    throw new RangeError(`maxBatchingWindowMs must be from 0 to 300000, got ${windowMs}`);
  }
}

/** Resolves after `ms`, or at once when `interrupt` settles (so stop() is not held up). */
function sleep(ms: number, interrupt: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([elapsed, interrupt]).finally(() => clearTimeout(timer));
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'NonError', message: String(error) };
}
