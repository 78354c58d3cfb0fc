import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
} from 'aws-lambda';
import { identityFromAuthorizerContext } from '#core/identity';
import type { Caller } from '#core/messages';

/** A WebSocket route event; API Gateway repeats the `$connect` authorizer's context on every route. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2WithRequestContext<
  APIGatewayEventWebsocketRequestContextV2 & { authorizer?: unknown }
>;

export function callerOf(event: WebSocketEvent): Caller {
  return {
    identity: identityFromAuthorizerContext(event.requestContext.authorizer),
    connectionId: event.requestContext.connectionId,
    connectedAt: event.requestContext.connectedAt,
  };
}
