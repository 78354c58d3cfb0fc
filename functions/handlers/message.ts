import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store';
import { logger } from '../adapters/powertools';
import { requireEnv, wiredOnFirstCall } from '../config/config';
import { ENV } from '../config/env-names';
import { encodeFrame } from '../core/frames';
import { createMessageHandler, type MessageDeps } from '../core/messages';
import { callerOf, type WebSocketEvent } from './websocket-event';

/**
 * `$default`: every client frame. The reply goes back through the route response, so it
 * costs no management API call; the socket stays open whatever the frame held.
 */
export function makeHandler(deps: MessageDeps) {
  const handleMessage = createMessageHandler(deps);
  return async (event: WebSocketEvent): Promise<APIGatewayProxyResultV2> => {
    const caller = callerOf(event);
    const body = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : event.body;
    const { frame, error } = await handleMessage(body, caller);
    if (error !== undefined) {
      logger.error('message failed', { connectionId: caller.connectionId, error });
    }
    return { statusCode: 200, body: encodeFrame(frame) };
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
