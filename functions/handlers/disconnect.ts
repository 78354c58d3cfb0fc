import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { logger } from '#adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import { identityFromAuthorizerContext } from '#core/identity';
import type { Identity } from '#core/model';
import { systemClock } from '#core/ports';
import { createPresence, DEFAULT_PRESENCE_SETTINGS, type Presence } from '#core/presence';
import { logPresenceReport } from './presence-log';
import type { WebSocketEvent } from './websocket-event';

export interface DisconnectDeps {
  presence: Pick<Presence, 'disconnect'>;
}

/**
 * `$disconnect` (best effort at API Gateway: the fan-out prunes on 410 and items expire
 * by TTL for the times it never comes). Tells the user's watchers when this was their
 * last connection.
 */
export function makeHandler(deps: DisconnectDeps) {
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const { connectionId } = event.requestContext;
    const report = await deps.presence.disconnect(connectionId, identityOf(event));
    logger.info('disconnected', { connectionId });
    logPresenceReport(connectionId, report);
    return { statusCode: 200 };
  };
}

/** API Gateway repeats the authorizer context here too; without one the removal still runs. */
function identityOf(event: WebSocketEvent): Identity | undefined {
  try {
    return identityFromAuthorizerContext(event.requestContext.authorizer);
  } catch {
    return undefined;
  }
}

export const handler = wiredOnFirstCall(() => {
  const settings = DEFAULT_PRESENCE_SETTINGS;
  return makeHandler({
    presence: createPresence({
      connections: new DynamoConnectionStore(
        dynamoDocumentClient(),
        requireEnv(ENV.connectionsTable),
      ),
      delivery: createSignedPostDelivery(requireEnv(ENV.callbackUrl), settings.concurrency),
      clock: systemClock,
      settings,
    }),
  });
});
