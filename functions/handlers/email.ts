import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, ses, sqs } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoMailLog } from '#adapters/dynamo-mail-log';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { DynamoSuppressionList } from '#adapters/dynamo-suppression-list';
import { logger, metrics } from '#adapters/powertools';
import { SesMailer } from '#adapters/ses-mailer';
import { decodeEmailQueueMessage, SqsEmailContinuations } from '#adapters/sqs-email-tasks';
import { SqsDeadLetters } from '#adapters/sqs-queues';
import {
  idempotencySeconds,
  intEnv,
  optionalEnv,
  requireEnv,
  wiredOnFirstCall,
} from '#config/config';
import { ENV } from '#config/env-names';
import { METRIC } from '#config/metric-names';
import { TOPOLOGY } from '#config/topology';
import {
  createEmailSender,
  DEFAULT_EMAIL_SETTINGS,
  type EmailDeps,
  type EmailReport,
} from '#core/email';
import type { EmailBudget } from '#core/email-tasks';
import { type DeadLetters, systemClock } from '#core/ports';
import { deadLetteringPoison, decodeOrReject } from './queue-record';

export interface EmailHandlerDeps extends EmailDeps {
  deadLetters: DeadLetters;
}

/**
 * The SQS consumer of envelopes whose `channels` include `email` (filtered by SNS), and of
 * the email tasks it hands itself for big audiences. Each invocation mails at most its
 * budget of recipients, across the records of its batch. Each recipient not mailed is
 * logged with its reason (e.g. `preference_never`, `user_online`).
 */
export function makeHandler(deps: EmailHandlerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const sender = createEmailSender(deps);

  async function processRecord(record: SQSRecord, budget: EmailBudget): Promise<void> {
    const message = await decodeOrReject(record, deps.deadLetters, decodeEmailQueueMessage);
    if (message === undefined) return;
    if (message.kind === 'task' || message.kind === 'welcome') {
      logger.warn('email queue got a fan-out task; ignored', { messageId: record.messageId });
      return;
    }
    const report =
      message.kind === 'email-task'
        ? await sender.run(message.task, budget)
        : await sender.publish(message.envelope, message.publishedAt, budget);
    logReport(report, record.messageId);
    if (report.failed.length > 0) {
      // Retried as a whole; the mail log keeps those already mailed from a second copy.
      throw new AggregateError(
        report.failed.map((failure) => failure.error),
        `${report.failed.length} email(s) failed`,
      );
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    const budget = sender.newBudget();
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) =>
          deadLetteringPoison(record, deps.deadLetters, () => processRecord(record, budget)),
        processor,
        { context },
      );
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function logReport(report: EmailReport, messageId: string): void {
  const { notificationId } = report;
  for (const skip of report.skipped) {
    logger.info('email not sent', { messageId, notificationId, ...skip });
  }
  for (const userId of report.unrecorded) {
    // Mailed; a crash before the lease runs out would let a retry mail them again.
    logger.warn('email sent but not recorded', { messageId, notificationId, userId });
  }
  for (const failure of report.failed) {
    logger.warn('email failed', { messageId, userId: failure.userId, error: failure.error });
  }
  if (report.handedOn > 0) {
    logger.info('email recipients handed on', {
      messageId,
      notificationId,
      handedOn: report.handedOn,
      throttled: report.throttled,
    });
  }
  metrics.addMetric(METRIC.emailsSent, MetricUnit.Count, report.sent.length);
  metrics.addMetric(METRIC.emailsSkipped, MetricUnit.Count, report.skipped.length);
  const suppressed = report.skipped.filter((skip) => skip.reason === 'suppressed').length;
  metrics.addMetric(METRIC.emailsSuppressed, MetricUnit.Count, suppressed);
  metrics.addMetric(METRIC.emailsHandedOn, MetricUnit.Count, report.handedOn);
  metrics.addMetric(METRIC.emailsThrottled, MetricUnit.Count, report.throttled);
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  const recipientsPerInvocation = intEnv(
    ENV.emailRecipientsPerInvocation,
    DEFAULT_EMAIL_SETTINGS.recipientsPerInvocation,
    // Sent at the SES rate, a budget must fit the consumer's timeout (50 at 14/s: 4 s).
    { min: 1, max: 1_000 },
  );
  return makeHandler({
    directory: new DynamoDirectory(doc, notificationsTable),
    mailLog: new DynamoMailLog(doc, notificationsTable),
    ledger: new DynamoEventLedger(doc, notificationsTable),
    preferences: new DynamoPreferenceStore(doc, notificationsTable),
    connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
    idempotencySeconds: idempotencySeconds(),
    mailer: new SesMailer(ses(), requireEnv(ENV.emailFrom), optionalEnv(ENV.sesConfigurationSet)),
    suppressions: new DynamoSuppressionList(doc, notificationsTable),
    continuations: new SqsEmailContinuations(sqs(), requireEnv(ENV.emailQueueUrl)),
    clock: systemClock,
    settings: {
      recipientsPerInvocation,
      // A batch of full tasks is one invocation's budget, so none is handed on again untouched.
      recipientsPerTask: Math.ceil(recipientsPerInvocation / TOPOLOGY.queues.email.batchSize),
      sendRatePerSecond: intEnv(ENV.sesRate, DEFAULT_EMAIL_SETTINGS.sendRatePerSecond, {
        min: 1,
        max: 100_000,
      }),
      // A claim outlives any invocation that could hold it (twice the consumer's timeout).
      leaseMs: 2 * TOPOLOGY.consumerTimeoutSeconds * 1000,
    },
    deadLetters: new SqsDeadLetters(sqs(), requireEnv(ENV.emailDeadLetterQueueUrl)),
  });
});
