import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store';
import { DynamoDirectory } from '../adapters/dynamo-directory';
import { logger } from '../adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '../config/config';
import { ENV } from '../config/env-names';
import { openConnection } from '../core/connections';
import type { ConnectionStore, Directory } from '../core/ports';
import { callerOf, type WebSocketEvent } from './websocket-event';

export interface ConnectDeps {
  connections: ConnectionStore;
  directory: Directory;
}

/** `$connect`, after the authorizer allowed it: record who holds the socket. */
export function makeHandler(deps: ConnectDeps) {
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const { identity, connectionId, connectedAt } = callerOf(event);
    await openConnection(deps.connections, identity, connectionId, connectedAt);
    // The address a token carries is the one email notifications go to.
    if (identity.email)
      await deps.directory.rememberEmail(identity.tenant, identity.userId, identity.email);
    logger.info('connected', { connectionId, tenant: identity.tenant, userId: identity.userId });
    return { statusCode: 200 };
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  return makeHandler({
    connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
    directory: new DynamoDirectory(doc, requireEnv(ENV.notificationsTable)),
  });
});
