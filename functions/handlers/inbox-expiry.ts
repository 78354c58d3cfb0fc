import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { ownersOfExpiredUnread } from '#adapters/dynamo-expiry-records';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoUserStateStore } from '#adapters/dynamo-user-state';
import { logger } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { createInboxService, DEFAULT_INBOX_SETTINGS, type InboxService } from '#core/inbox';
import { createLimiter, mapLimited } from '#core/limiter';
import { systemClock } from '#core/ports';

/** Users whose count is read and announced at once (their posts share one limiter besides). */
const COUNT_CONCURRENCY = 8;

export interface InboxExpiryDeps {
  inbox: Pick<InboxService, 'announceState'>;
}

/**
 * The notifications table's stream, filtered to TTL removals (in AWS by the event source's
 * filter, locally by the TTL sweeper that stands in for DynamoDB's TTL): every user who lost
 * an unread notification gets their new count on every live connection. The count itself
 * needs no repair: it never counted a row past its `expiresAt`. A user whose count could not
 * be read is reported as a batch item failure at their first record, from which the stream
 * retries (Lambda checkpoints at the lowest one); a second `state` frame is harmless.
 */
export function makeHandler(deps: InboxExpiryDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const owners = ownersOfExpiredUnread(event.Records);
    // A batch of up to TTL_STREAM.batchSize records: its users' counts read a few at a time.
    const failed = await mapLimited(owners, COUNT_CONCURRENCY, async (owner) => {
      try {
        await deps.inbox.announceState(owner);
        return undefined;
      } catch (error) {
        logger.warn('count after expiry not announced', { error });
        // Without a sequence number the record cannot be named: fail the whole batch.
        if (owner.firstSequenceNumber === undefined) throw error;
        return owner.firstSequenceNumber;
      }
    });
    if (owners.length > 0) logger.info('announced counts after expiry', { users: owners.length });
    return {
      batchItemFailures: failed
        .filter((sequence) => sequence !== undefined)
        .map((itemIdentifier) => ({ itemIdentifier })),
    };
  };
}

const POST_CONCURRENCY = DEFAULT_INBOX_SETTINGS.concurrency;

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  return makeHandler({
    inbox: createInboxService({
      inbox: new DynamoOwnerInbox(doc, requireEnv(ENV.notificationsTable)),
      appState: new DynamoUserStateStore(doc, requireEnv(ENV.notificationsTable)),
      connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
      delivery: createSignedPostDelivery(requireEnv(ENV.callbackUrl), POST_CONCURRENCY),
      clock: systemClock,
      limiter: createLimiter(POST_CONCURRENCY),
      onPushProblem: ({ what, error }) => logger.warn('state push problem', { what, error }),
    }),
  });
});
