import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store';
import { logger } from '../adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '../config/config';
import { ENV } from '../config/env-names';
import type { ConnectionStore } from '../core/ports';
import type { WebSocketEvent } from './websocket-event';

export interface DisconnectDeps {
  connections: ConnectionStore;
}

/**
 * `$disconnect` (best effort at API Gateway: the fan-out prunes on 410 and items expire
 * by TTL for the times it never comes).
 */
export function makeHandler(deps: DisconnectDeps) {
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const { connectionId } = event.requestContext;
    await deps.connections.remove(connectionId);
    logger.info('disconnected', { connectionId });
    return { statusCode: 200 };
  };
}

export const handler = wiredOnFirstCall(() =>
  makeHandler({
    connections: new DynamoConnectionStore(
      dynamoDocumentClient(),
      requireEnv(ENV.connectionsTable),
    ),
  }),
);
