import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SNSEvent } from 'aws-lambda';
import { dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoSuppressionList } from '#adapters/dynamo-suppression-list';
import { logger, metrics } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { type Clock, systemClock } from '#core/ports';
import { InvalidFeedbackError, type SuppressionList, suppressionsFrom } from '#core/suppression';

export interface SesFeedbackDeps {
  suppressions: Pick<SuppressionList, 'suppress'>;
  clock: Pick<Clock, 'now'>;
}

/**
 * SES's bounce and complaint events (the configuration set's event destination, through
 * SNS): each hard bounce or complaint puts its addresses on the suppression list, which the
 * email consumer checks before every send. A message that is not SES feedback is logged and
 * dropped (retrying cannot mend it); a failed write throws, so SNS retries the invocation.
 */
export function makeHandler(deps: SesFeedbackDeps) {
  return async (event: SNSEvent): Promise<void> => {
    let suppressed = 0;
    try {
      for (const record of event.Records) {
        const messageId = record.Sns.MessageId;
        let suppressions: ReturnType<typeof suppressionsFrom>;
        try {
          suppressions = suppressionsFrom(JSON.parse(record.Sns.Message), deps.clock.now());
        } catch (error) {
          if (!(error instanceof SyntaxError || error instanceof InvalidFeedbackError)) throw error;
          logger.error('SES feedback not understood; dropped', { messageId, error: error.message });
          continue;
        }
        for (const suppression of suppressions) {
          await deps.suppressions.suppress(suppression);
          suppressed += 1;
          // The address itself only at debug level: it is personal data.
          logger.debug('address suppressed', { address: suppression.address });
          logger.info('address suppressed', {
            messageId,
            reason: suppression.reason,
            bounceType: suppression.bounceType,
            bounceSubType: suppression.bounceSubType,
          });
        }
      }
    } finally {
      metrics.addMetric('AddressesSuppressed', MetricUnit.Count, suppressed);
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = wiredOnFirstCall(() =>
  makeHandler({
    suppressions: new DynamoSuppressionList(
      dynamoDocumentClient(),
      requireEnv(ENV.notificationsTable),
    ),
    clock: systemClock,
  }),
);
