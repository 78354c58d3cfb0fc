import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient, sqs } from '#adapters/aws-clients';
import { DynamoChangeLog } from '#adapters/dynamo-change-log';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { logger, metrics } from '#adapters/powertools';
import { SqsContinuations, SqsDeadLetters } from '#adapters/sqs-queues';
import {
  deliveryConcurrency,
  idempotencySeconds,
  intEnv,
  requireEnv,
  retentionSeconds,
  wiredOnFirstCall,
} from '#config/config';
import { ENV } from '#config/env-names';
import { METRIC } from '#config/metric-names';
import {
  createFanOut,
  DEFAULT_FAN_OUT_SETTINGS,
  type FanOut,
  FanOutBatch,
  type FanOutReport,
} from '#core/fan-out';
import { type DeadLetters, systemClock } from '#core/ports';
import { deadLetteringPoison, decodeOrReject, receiveCount } from './queue-record';

export interface FanOutHandlerDeps {
  fanOut: FanOut;
  deadLetters: DeadLetters;
  /** Milliseconds since the epoch, for the publish-to-push latency; the system clock unless given. */
  now?: () => number;
}

/** The SQS consumer behind the topic: one record per published envelope or handed-on task. */
export function makeHandler(deps: FanOutHandlerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const now = deps.now ?? (() => systemClock.now());

  async function processRecord(record: SQSRecord, batch: FanOutBatch): Promise<void> {
    const message = await decodeOrReject(record, deps.deadLetters);
    if (message === undefined) return;
    const report =
      message.kind === 'publish'
        ? await deps.fanOut.publish(message.envelope, {
            publishedAt: message.publishedAt,
            redelivered: receiveCount(record) > 1,
            batch,
          })
        : await deps.fanOut.run(message.task, batch);
    logReport(report, record.messageId, message.kind === 'task' ? message.task.kind : 'publish');
    const publishedAt = message.kind === 'publish' ? message.publishedAt : message.task.publishedAt;
    recordPushLatency(report, publishedAt, now());
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    // Records are processed in parallel; those of one batch share lookups and collapse windows.
    const batch = new FanOutBatch();
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) =>
          deadLetteringPoison(record, deps.deadLetters, () => processRecord(record, batch)),
        processor,
        { context },
      );
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * Publish-to-push latency: now minus the SNS publish timestamp, once per record that pushed
 * to at least one connection (a retry's pushes count from the original publish).
 */
function recordPushLatency(report: FanOutReport, publishedAt: number, now: number): void {
  if (report.delivered === 0) return;
  metrics.addMetric(
    METRIC.publishToPushLatency,
    MetricUnit.Milliseconds,
    Math.max(0, now - publishedAt),
  );
}

function logReport(report: FanOutReport, messageId: string, kind: string): void {
  const { problems, ...counts } = report;
  logger.info('fan-out done', { messageId, kind, ...counts });
  for (const problem of problems) {
    logger.warn('fan-out problem', { messageId, what: problem.what, error: problem.error });
  }
  metrics.addMetric(METRIC.delivered, MetricUnit.Count, report.delivered);
  metrics.addMetric(METRIC.pruned, MetricUnit.Count, report.pruned);
  metrics.addMetric(METRIC.deferred, MetricUnit.Count, report.deferred);
  metrics.addMetric(METRIC.abandoned, MetricUnit.Count, report.abandoned);
  metrics.addMetric(METRIC.duplicates, MetricUnit.Count, report.duplicates);
  metrics.addMetric(METRIC.coalesced, MetricUnit.Count, report.coalesced);
  metrics.addMetric(METRIC.muted, MetricUnit.Count, report.muted);
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  const concurrency = deliveryConcurrency(DEFAULT_FAN_OUT_SETTINGS.concurrency);
  const settings = {
    ...DEFAULT_FAN_OUT_SETTINGS,
    concurrency,
    pageSize: intEnv(ENV.broadcastPageSize, DEFAULT_FAN_OUT_SETTINGS.pageSize, {
      min: 1,
      max: 100_000,
    }),
    retentionSeconds: retentionSeconds(),
    idempotencySeconds: idempotencySeconds(),
    coalescing: {
      ...DEFAULT_FAN_OUT_SETTINGS.coalescing,
      windowMs: intEnv(ENV.collapseWindowMs, DEFAULT_FAN_OUT_SETTINGS.coalescing.windowMs, {
        min: 0,
        // The claimant sleeps through its window inside the consumer's timeout.
        max: 10_000,
      }),
    },
  };
  return makeHandler({
    fanOut: createFanOut({
      connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
      inbox: new DynamoFanOutInbox(doc, notificationsTable),
      ledger: new DynamoEventLedger(doc, notificationsTable),
      delivery: createSignedPostDelivery(
        requireEnv(ENV.callbackUrl),
        concurrency,
        process.env,
        () => metrics.addMetric(METRIC.connectionsThrottled, MetricUnit.Count, 1),
      ),
      continuations: new SqsContinuations(sqs(), requireEnv(ENV.fanOutQueueUrl)),
      preferences: new DynamoPreferenceStore(doc, notificationsTable, { consistentReads: false }),
      collapses: new DynamoCollapseStore(doc, notificationsTable),
      changes: new DynamoChangeLog(doc, notificationsTable),
      clock: systemClock,
      settings,
    }),
    deadLetters: new SqsDeadLetters(sqs(), requireEnv(ENV.fanOutDeadLetterQueueUrl)),
  });
});
