import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { logger } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { type Directory, systemClock } from '#core/ports';
import { createPresence, DEFAULT_PRESENCE_SETTINGS, type Presence } from '#core/presence';
import { logPresenceReport } from './presence-log';
import { callerOf, type WebSocketEvent } from './websocket-event';

export interface ConnectDeps {
  presence: Pick<Presence, 'connect'>;
  directory: Directory;
}

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
    return { statusCode: 200 };
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const settings = DEFAULT_PRESENCE_SETTINGS;
  return makeHandler({
    presence: createPresence({
      connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
      delivery: createSignedPostDelivery(requireEnv(ENV.callbackUrl), settings.concurrency),
      clock: systemClock,
      settings,
    }),
    directory: new DynamoDirectory(doc, requireEnv(ENV.notificationsTable)),
  });
});
