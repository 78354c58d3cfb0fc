import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { logger, metrics } from '#adapters/powertools';
import { decodeQueueMessage, type QueueMessage } from '#adapters/queue-messages';
import { InvalidEnvelopeError } from '#core/errors';
import type { DeadLetters } from '#core/ports';

/**
 * Decodes a queue record, or dead-letters it at once with the reason when it can never be
 * processed (retrying it `maxReceiveCount` times would change nothing). Returns undefined
 * for a record so handled; any other failure is thrown so the record is retried.
 */
export async function decodeOrReject(
  record: SQSRecord,
  deadLetters: DeadLetters,
): Promise<QueueMessage | undefined> {
  try {
    return decodeQueueMessage(record.body, Number(record.attributes.SentTimestamp) || Date.now());
  } catch (error) {
    if (!(error instanceof InvalidEnvelopeError)) throw error;
    // The reason names fields and rules, never the body's values.
    logger.warn('message rejected to the dead-letter queue', {
      messageId: record.messageId,
      reason: error.message,
    });
    metrics.addMetric('MessagesRejected', MetricUnit.Count, 1);
    await deadLetters.reject(record.body, error.message);
    return undefined;
  }
}

export function receiveCount(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}
