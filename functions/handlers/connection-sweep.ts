import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionLifetimes } from '#adapters/dynamo-connection-lifetimes';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { logger } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import {
  type CloseReport,
  DEFAULT_CLOSE_CONCURRENCY,
  DEFAULT_SWEEP_LOOKBACK_MINUTES,
  type SweepDeps,
  sweepExpiredConnections,
} from '#core/connection-lifetime';
import { systemClock } from '#core/ports';

/**
 * Run every minute (an EventBridge schedule in AWS, a timer locally): closes the
 * connections whose token has expired. The event itself carries nothing it needs.
 */
export function makeHandler(deps: SweepDeps) {
  return async (_event?: unknown): Promise<{ closed: number; problems: number }> => {
    const report: CloseReport = await sweepExpiredConnections(deps);
    if (report.closed.length > 0) {
      logger.info('closed expired connections', { closed: report.closed });
    }
    for (const { what, error } of report.problems) logger.warn('sweep problem', { what, error });
    return { closed: report.closed.length, problems: report.problems.length };
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const table = requireEnv(ENV.connectionsTable);
  return makeHandler({
    connections: new DynamoConnectionStore(doc, table),
    lifetimes: new DynamoConnectionLifetimes(doc, table),
    disconnector: createSignedPostDelivery(requireEnv(ENV.callbackUrl), DEFAULT_CLOSE_CONCURRENCY),
    clock: systemClock,
    lookbackMinutes: DEFAULT_SWEEP_LOOKBACK_MINUTES,
    concurrency: DEFAULT_CLOSE_CONCURRENCY,
  });
});
