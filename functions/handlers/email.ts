import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, ses, sqs } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoDirectory, DynamoMailLog } from '#adapters/dynamo-directory';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { logger, metrics } from '#adapters/powertools';
import { SesMailer } from '#adapters/ses-mailer';
import { SqsDeadLetters } from '#adapters/sqs-queues';
import { requireEnv, retentionSeconds, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { createEmailSender, type EmailDeps } from '#core/email';
import type { DeadLetters } from '#core/ports';
import { decodeOrReject } from './queue-record';

export interface EmailHandlerDeps extends EmailDeps {
  deadLetters: DeadLetters;
}

/**
 * The SQS consumer of envelopes whose `channels` include `email` (filtered by SNS). Each
 * recipient not mailed is logged with its reason (e.g. `preference_never`, `user_online`).
 */
export function makeHandler(deps: EmailHandlerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const sendEmails = createEmailSender(deps);

  async function processRecord(record: SQSRecord): Promise<void> {
    const message = await decodeOrReject(record, deps.deadLetters);
    if (message === undefined) return;
    if (message.kind !== 'publish') {
      logger.warn('email queue got a fan-out task; ignored', { messageId: record.messageId });
      return;
    }
    const report = await sendEmails(message.envelope, message.publishedAt);
    const { messageId } = record;
    for (const skip of report.skipped) {
      logger.info('email not sent', { messageId, notificationId: report.notificationId, ...skip });
    }
    metrics.addMetric('EmailsSent', MetricUnit.Count, report.sent.length);
    metrics.addMetric('EmailsSkipped', MetricUnit.Count, report.skipped.length);
    if (report.failed.length > 0) {
      for (const failure of report.failed) {
        logger.warn('email failed', { messageId, userId: failure.userId, error: failure.error });
      }
      // Retried as a whole; the mail log keeps those already mailed from a second copy.
      throw new AggregateError(
        report.failed.map((failure) => failure.error),
        `${report.failed.length} email(s) failed`,
      );
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    try {
      return await processPartialResponse(event, processRecord, processor, { context });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  return makeHandler({
    directory: new DynamoDirectory(doc, notificationsTable),
    mailLog: new DynamoMailLog(doc, notificationsTable),
    ledger: new DynamoEventLedger(doc, notificationsTable),
    preferences: new DynamoPreferenceStore(doc, notificationsTable),
    connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
    retentionSeconds: retentionSeconds(),
    mailer: new SesMailer(ses(), requireEnv(ENV.emailFrom)),
    deadLetters: new SqsDeadLetters(sqs(), requireEnv(ENV.emailDeadLetterQueueUrl)),
  });
});
