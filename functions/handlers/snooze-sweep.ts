/**
 * Run every minute (an EventBridge schedule in AWS, a timer locally): brings back the
 * snoozed notifications that are due (see `#core/snooze-sweep`). The event carries nothing
 * it needs; what is due comes from its clock and the watermark in the table.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoSnoozeInbox } from '#adapters/dynamo-snooze-inbox';
import { DynamoSnoozeListing, DynamoSweepWatermark } from '#adapters/dynamo-snooze-listing';
import { DynamoUserStateStore } from '#adapters/dynamo-user-state';
import { logger, metrics } from '#adapters/powertools';
import { deliveryConcurrency, requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { METRIC } from '#config/metric-names';
import { DEFAULT_RETRY } from '#core/deliver';
import { createInboxService, DEFAULT_INBOX_SETTINGS } from '#core/inbox';
import { createLimiter } from '#core/limiter';
import { type Clock, systemClock } from '#core/ports';
import { createPusher } from '#core/push';
import { createWakeAnnouncer } from '#core/snooze';
import { MS_PER_MINUTE, type SnoozeSweepDeps, sweepSnoozed } from '#core/snooze-sweep';

export interface SnoozeSweepResult {
  woken: number;
  stale: number;
  deferred: number;
  problems: number;
  /** The last minute read in full after this run (epoch minutes). */
  watermark?: number;
}

export function makeHandler(deps: SnoozeSweepDeps) {
  return async (_event?: unknown): Promise<SnoozeSweepResult> => {
    const report = await sweepSnoozed(deps);
    const { woken, stale, deferred, from, to, watermark } = report;
    if (woken + stale + deferred > 0) {
      logger.info('snooze sweep', { woken, stale, deferred, from, to });
    }
    for (const { what, error } of report.problems) logger.warn('snooze problem', { what, error });
    metrics.addMetric(METRIC.snoozesWoken, MetricUnit.Count, woken);
    if (watermark !== undefined) {
      const behind = Math.floor(deps.clock.now() / MS_PER_MINUTE) - watermark;
      metrics.addMetric(METRIC.snoozeBacklogMinutes, MetricUnit.Count, behind);
    }
    metrics.publishStoredMetrics();
    return { woken, stale, deferred, problems: report.problems.length, watermark };
  };
}

/**
 * The handler over the real adapters, judging what is due by `clock`: the system clock in
 * AWS; the local stack passes one a test can move, so a snooze an hour out is due at once.
 * Everything else (token expiry on push, row expiry) keeps the system clock.
 */
export function wireSnoozeSweep(clock: Clock) {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  const connections = new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable));
  const concurrency = deliveryConcurrency(DEFAULT_INBOX_SETTINGS.concurrency);
  const delivery = createSignedPostDelivery(requireEnv(ENV.callbackUrl), concurrency);
  const limiter = createLimiter(concurrency);
  const pusher = createPusher({
    connections,
    delivery,
    limiter,
    clock: systemClock,
    retry: DEFAULT_RETRY,
    pruneConcurrency: concurrency,
  });
  const inbox = createInboxService({
    inbox: new DynamoOwnerInbox(doc, notificationsTable),
    // The state frame a wake sends carries the app's keys too.
    appState: new DynamoUserStateStore(doc, notificationsTable),
    connections,
    delivery,
    clock: systemClock,
    limiter,
    settings: { concurrency },
    onPushProblem: ({ what, error }) => logger.warn('state push problem', { what, error }),
  });
  return makeHandler({
    listing: new DynamoSnoozeListing(doc, notificationsTable),
    watermark: new DynamoSweepWatermark(doc, notificationsTable),
    inbox: new DynamoSnoozeInbox(doc, notificationsTable),
    clock,
    announce: createWakeAnnouncer({ pusher, inbox }),
  });
}

export const handler = wiredOnFirstCall(() => wireSnoozeSweep(systemClock));
