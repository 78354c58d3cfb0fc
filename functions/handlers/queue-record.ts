import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { logger, metrics } from '#adapters/powertools';
import { decodeQueueMessage, type QueueMessage } from '#adapters/queue-messages';
import { METRIC } from '#config/metric-names';
import { InvalidEnvelopeError } from '#core/errors';
import type { DeadLetters } from '#core/ports';

/** Reads a message body; `sentAt` is the SQS SentTimestamp. Throws for a body that can never be read. */
export type QueueDecoder<Message> = (body: string, sentAt: number) => Message;

/**
 * Decodes a queue record (with `decode`, by default the fan-out queue's `decodeQueueMessage`),
 * or dead-letters it at once with the reason when it can never be processed (retrying it
 * `maxReceiveCount` times would change nothing). Returns undefined for a record so handled.
 * Decoding is a pure function of the body, so whatever it throws (an InvalidEnvelopeError,
 * or anything unforeseen) it would throw on every receive.
 */
export function decodeOrReject(
  record: SQSRecord,
  deadLetters: DeadLetters,
): Promise<QueueMessage | undefined>;
export function decodeOrReject<Message>(
  record: SQSRecord,
  deadLetters: DeadLetters,
  decode: QueueDecoder<Message>,
): Promise<Message | undefined>;
export async function decodeOrReject(
  record: SQSRecord,
  deadLetters: DeadLetters,
  decode: QueueDecoder<unknown> = decodeQueueMessage,
): Promise<unknown> {
  try {
    return decode(record.body, Number(record.attributes.SentTimestamp) || Date.now());
  } catch (error) {
    const reason =
      error instanceof InvalidEnvelopeError
        ? error.message
        : `invalid message: decoding threw ${errorName(error)}`;
    await reject(record, deadLetters, reason, error);
    return undefined;
  }
}

/**
 * Runs `work`, the processing of a decoded record. A failure that no retry can change (see
 * `poisonReason`) dead-letters the record with the reason, and the record counts as
 * processed; any other failure (throttling, network, 5xx, a conditional conflict …) is
 * thrown, so the record is retried through the partial batch failure.
 */
export async function deadLetteringPoison(
  record: SQSRecord,
  deadLetters: DeadLetters,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const reason = poisonReason(error);
    if (reason === undefined) throw error;
    await reject(record, deadLetters, reason, error);
  }
}

/**
 * Why an error thrown while processing means the message can never succeed, or undefined
 * when a retry may: an envelope found invalid late, or a RangeError (a stack overflow while
 * serialising, an invalid time), which the same input raises again on every attempt. A
 * TypeError is not poison by itself: network failures surface as one ("fetch failed").
 * An AggregateError is poison only when every error in it is.
 */
export function poisonReason(error: unknown): string | undefined {
  if (error instanceof InvalidEnvelopeError) return error.message;
  if (error instanceof RangeError) return `cannot be processed: processing threw ${error.name}`;
  if (error instanceof AggregateError && error.errors.length > 0) {
    const reasons = error.errors.map(poisonReason);
    if (reasons.every((reason) => reason !== undefined)) return [...new Set(reasons)].join('; ');
  }
  return undefined;
}

async function reject(
  record: SQSRecord,
  deadLetters: DeadLetters,
  reason: string,
  error: unknown,
): Promise<void> {
  // The reason names fields and rules, never the body's values; so does the log.
  logger.warn('message rejected to the dead-letter queue', {
    messageId: record.messageId,
    reason,
    error: errorName(error),
  });
  metrics.addMetric(METRIC.messagesRejected, MetricUnit.Count, 1);
  try {
    await deadLetters.reject(record.body, reason);
  } catch (error) {
    // A body near the queue's size limit has no room left for the reason attribute: keep
    // its head, rather than fail it until the redrive moves it with no reason at all.
    const bytes = Buffer.byteLength(record.body);
    if (bytes < CUT_FROM_BYTES) throw error;
    const kept = Buffer.from(record.body)
      .subarray(0, bytes - REASON_ROOM_BYTES)
      .toString();
    const cut = `${reason} (dead-lettered cut to its first ${bytes - REASON_ROOM_BYTES} bytes)`;
    await deadLetters.reject(kept, cut);
  }
}

/** Room for the reason attribute (at most 1,024 characters, its name and type) in a message. */
const REASON_ROOM_BYTES = 4 * 1024;
/** Bodies from here on may be too big to dead-letter with their reason (SQS allows 256 KiB or more). */
const CUT_FROM_BYTES = 256 * 1024 - REASON_ROOM_BYTES;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

export function receiveCount(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}
