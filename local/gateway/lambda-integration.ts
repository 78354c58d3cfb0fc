/**
 * How the gateway meets its Lambda integrations: the handler signatures, typed with the
 * aws-lambda types handlers are written against, the casts from the gateway's exact event
 * shapes to those types, and the reading of what an integration returned.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayProxyWebsocketEventV2,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import type { WebSocketAuthorizerEvent, WebSocketEvent } from './events';

/**
 * The integrations, typed with the aws-lambda types handlers are written against, so real
 * handlers plug in as they are. `connect` and `default` results are read for `statusCode`,
 * `body` and `headers` only.
 */
export interface WebSocketHandlers {
  authorizer: (
    event: APIGatewayRequestAuthorizerEvent,
    context: Context,
  ) => Promise<APIGatewayAuthorizerResult>;
  connect: (
    event: APIGatewayProxyWebsocketEventV2,
    context: Context,
  ) => Promise<APIGatewayProxyResultV2 | undefined>;
  disconnect: (event: APIGatewayProxyWebsocketEventV2, context: Context) => Promise<unknown>;
  default: (
    event: APIGatewayProxyWebsocketEventV2,
    context: Context,
  ) => Promise<APIGatewayProxyResultV2 | undefined>;
}

/**
 * The aws-lambda type declares `messageId` on every route; AWS sends it on MESSAGE events only
 * (and adds identity, authorizer and close fields the type leaves out).
 */
export function asLambdaEvent(event: WebSocketEvent): APIGatewayProxyWebsocketEventV2 {
  return event as APIGatewayProxyWebsocketEventV2;
}

/**
 * The aws-lambda type is the REST one: AWS sends a WebSocket authorizer no `resource`, `path`,
 * `httpMethod` or `pathParameters`, and a WebSocket `requestContext`.
 */
export function asRestAuthorizerEvent(
  event: WebSocketAuthorizerEvent,
): APIGatewayRequestAuthorizerEvent {
  return event as unknown as APIGatewayRequestAuthorizerEvent;
}

/** No `statusCode` (or no result) counts as 200, as API Gateway accepts such a `$connect`. */
export function statusOf(result: unknown): number {
  const { statusCode } = asResult(result);
  return typeof statusCode === 'number' ? statusCode : 200;
}

/** A plain string result is taken as the body, as for HTTP APIs. */
export function bodyOf(result: unknown): string | undefined {
  if (typeof result === 'string') return result;
  const { body } = asResult(result);
  return typeof body === 'string' ? body : undefined;
}

export function headerOf(result: unknown, name: string): string | undefined {
  const { headers } = asResult(result);
  if (headers === undefined) return undefined;
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return entry === undefined ? undefined : String(entry[1]);
}

function asResult(result: unknown): APIGatewayProxyStructuredResultV2 {
  return typeof result === 'object' && result !== null ? result : {};
}
