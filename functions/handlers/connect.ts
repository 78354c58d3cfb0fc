import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient, sqs } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { logger } from '#adapters/powertools';
import { encodeWelcome } from '#adapters/queue-messages';
import { SqsTaskQueue } from '#adapters/sqs-queues';
import { intEnv, requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { closeOldestBeyond } from '#core/connections';
import {
  type ConnectionStore,
  type Directory,
  type Disconnector,
  systemClock,
  type Welcomes,
} from '#core/ports';
import { createPresence, DEFAULT_PRESENCE_SETTINGS, type Presence } from '#core/presence';
import { logPresenceReport } from './presence-log';
import { callerOf, type WebSocketEvent } from './websocket-event';

export interface ConnectDeps {
  presence: Pick<Presence, 'connect'>;
  directory: Directory;
  /**
   * Where the welcome goes: the fan-out posts the user's `state` frame once the socket is
   * open (API Gateway takes no post to a connection inside its own `$connect`).
   */
  welcomes?: Welcomes;
  /** The cap on a user's connections; none when left out. */
  cap?: { connections: ConnectionStore; disconnector: Disconnector; maxPerUser: number };
}

export const DEFAULT_MAX_CONNECTIONS_PER_USER = 20;

/**
 * `$connect`, after the authorizer allowed it: record who holds the socket, and tell the
 * user's watchers when this is their first connection.
 */
export function makeHandler(deps: ConnectDeps) {
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const { identity, connectionId, connectedAt } = callerOf(event);
    const report = await deps.presence.connect(identity, connectionId, connectedAt);
    // The address a token carries is the one email notifications go to.
    if (identity.email)
      await deps.directory.rememberEmail(identity.tenant, identity.userId, identity.email);
    logger.info('connected', { connectionId, tenant: identity.tenant, userId: identity.userId });
    logPresenceReport(connectionId, report);
    try {
      const { tenant, userId } = identity;
      await deps.welcomes?.enqueue({ tenant, userId, connectionId, attempt: 0 });
    } catch (error) {
      // The socket still opens: the client can ask for `state` itself.
      logger.warn('welcome not sent', { connectionId, error });
    }
    if (deps.cap !== undefined) {
      const { maxPerUser } = deps.cap;
      // The new socket is accepted whatever happens here: a failure leaves the user over
      // the cap until their next connect, never locked out.
      try {
        const closed = await closeOldestBeyond(deps.cap, identity, connectionId, maxPerUser);
        if (closed.length > 0) logger.info('closed oldest connections', { connectionId, closed });
      } catch (error) {
        logger.warn('connection cap not applied', { connectionId, error });
      }
    }
    return { statusCode: 200 };
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const settings = DEFAULT_PRESENCE_SETTINGS;
  const connections = new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable));
  const delivery = createSignedPostDelivery(requireEnv(ENV.callbackUrl), settings.concurrency);
  const maxPerUser = intEnv(ENV.maxConnectionsPerUser, DEFAULT_MAX_CONNECTIONS_PER_USER, {
    min: 1,
    max: 1000,
  });
  return makeHandler({
    presence: createPresence({ connections, delivery, clock: systemClock, settings }),
    directory: new DynamoDirectory(doc, requireEnv(ENV.notificationsTable)),
    welcomes: new SqsTaskQueue(sqs(), requireEnv(ENV.fanOutQueueUrl), encodeWelcome),
    cap: { connections, disconnector: delivery, maxPerUser },
  });
});
