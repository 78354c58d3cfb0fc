/**
 * The events API Gateway hands to the Lambda integrations of a WebSocket API, built the way
 * AWS builds them (field names, which route carries what, id and time formats), so handlers
 * run locally against the same shapes they meet in AWS.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';

/**
 * `requestContext.authorizer` on every route after an Allow: the authorizer's context with each
 * value stringified (AWS does that), plus `principalId` and the authorizer's latency in ms.
 */
export interface WebSocketAuthorizerContext {
  principalId: string;
  integrationLatency: number;
  [key: string]: string | number;
}

export interface WebSocketIdentity {
  sourceIp: string;
  /** Present when the client sent a User-Agent header. */
  userAgent?: string;
}

/** AWS omits `messageId` outside MESSAGE events, adds identity, authorizer and the close fields. */
export interface WebSocketRequestContext
  extends Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> {
  messageId?: string;
  identity: WebSocketIdentity;
  authorizer?: WebSocketAuthorizerContext;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

/** A `$connect`, `$default` or `$disconnect` event (Lambda proxy integration). */
export type WebSocketEvent =
  APIGatewayProxyWebsocketEventV2WithRequestContext<WebSocketRequestContext> & {
    headers?: Record<string, string>;
    multiValueHeaders?: Record<string, string[]>;
  };

/** A REQUEST authorizer event for `$connect`: no path, resource or HTTP method, unlike REST. */
export type WebSocketAuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  | 'type'
  | 'methodArn'
  | 'headers'
  | 'multiValueHeaders'
  | 'queryStringParameters'
  | 'multiValueQueryStringParameters'
  | 'stageVariables'
> & { requestContext: WebSocketRequestContext };

/** What the upgrade request said, read once and reused by the authorizer and `$connect` events. */
export interface Handshake {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: Record<string, string>;
  multiValueQuery: Record<string, string[]>;
  identity: WebSocketIdentity;
  /** The Host the client connected to; AWS reports its own as `domainName`. */
  domainName: string;
}

/** What every event of one connection shares. */
export interface ConnectionScope {
  apiId: string;
  stage: string;
  connectionId: string;
  connectedAt: number;
  domainName: string;
  identity: WebSocketIdentity;
  authorizer?: WebSocketAuthorizerContext;
}

/** Ids shaped like API Gateway's connection, request and message ids (e.g. `L0SM9cOFvHcCIhw=`). */
export function awsId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** A 10-character API id such as AWS assigns (`abcdef1234`). */
export function apiIdLike(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}

export function methodArn(apiId: string, stage: string, routeKey = '$connect'): string {
  return `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${apiId}/${stage}/${routeKey}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` as API Gateway writes it: `09/Feb/2024:18:11:43 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/**
 * Reads the upgrade request. Header names keep the client's spelling (from `rawHeaders`, as AWS
 * passes them), and the `X-Forwarded-*` and trace headers API Gateway adds are added.
 */
export function readHandshake(req: IncomingMessage, localPort: number): Handshake {
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    const existing = Object.keys(multiValueHeaders).find(
      (key) => key.toLowerCase() === name.toLowerCase(),
    );
    append(multiValueHeaders, existing ?? name, value);
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const added: Record<string, string> = {
    'X-Amzn-Trace-Id': traceId(),
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': String(localPort),
    'X-Forwarded-Proto': 'http',
  };
  for (const [name, value] of Object.entries(added)) {
    if (!Object.keys(multiValueHeaders).some((key) => key.toLowerCase() === name.toLowerCase())) {
      multiValueHeaders[name] = [value];
    }
  }
  const headers = lastValues(multiValueHeaders);

  const multiValueQuery: Record<string, string[]> = {};
  const search = new URL(req.url ?? '/', 'http://gateway.invalid').searchParams;
  for (const [key, value] of search) append(multiValueQuery, key, value);

  const userAgent = req.headers['user-agent'];
  return {
    headers,
    multiValueHeaders,
    query: lastValues(multiValueQuery),
    multiValueQuery,
    identity: userAgent === undefined ? { sourceIp } : { sourceIp, userAgent },
    domainName: req.headers.host ?? `127.0.0.1:${localPort}`,
  };
}

export function authorizerEvent(
  scope: ConnectionScope,
  handshake: Handshake,
  now: number,
): WebSocketAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: methodArn(scope.apiId, scope.stage),
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    queryStringParameters: handshake.query,
    multiValueQueryStringParameters: handshake.multiValueQuery,
    stageVariables: {},
    requestContext: requestContext(scope, '$connect', 'CONNECT', now),
  };
}

export function connectEvent(
  scope: ConnectionScope,
  handshake: Handshake,
  now: number,
): WebSocketEvent {
  const hasQuery = Object.keys(handshake.query).length > 0;
  return {
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    // AWS leaves the query keys out when the URL has none.
    ...(hasQuery && {
      queryStringParameters: handshake.query,
      multiValueQueryStringParameters: handshake.multiValueQuery,
    }),
    requestContext: requestContext(scope, '$connect', 'CONNECT', now),
    isBase64Encoded: false,
  };
}

export function messageEvent(scope: ConnectionScope, body: string, now: number): WebSocketEvent {
  return {
    requestContext: { ...requestContext(scope, '$default', 'MESSAGE', now), messageId: awsId() },
    body,
    isBase64Encoded: false,
  };
}

export function disconnectEvent(
  scope: ConnectionScope,
  close: { code: number; reason: string },
  now: number,
): WebSocketEvent {
  // These four, with empty values, are what AWS sends on $disconnect: the upgrade's are gone.
  const headers: Record<string, string> = {
    Host: scope.domainName,
    'x-api-key': '',
    'X-Forwarded-For': '',
    'x-restapi': '',
  };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext: {
      ...requestContext(scope, '$disconnect', 'DISCONNECT', now),
      disconnectStatusCode: close.code,
      disconnectReason: close.reason,
    },
    isBase64Encoded: false,
  };
}

function requestContext(
  scope: ConnectionScope,
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
  now: number,
): WebSocketRequestContext {
  const requestId = awsId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: formatRequestTime(now),
    messageDirection: 'IN',
    stage: scope.stage,
    connectedAt: scope.connectedAt,
    requestTimeEpoch: now,
    identity: scope.identity,
    requestId,
    domainName: scope.domainName,
    connectionId: scope.connectionId,
    apiId: scope.apiId,
    ...(scope.authorizer && { authorizer: scope.authorizer }),
  };
}

function append(multi: Record<string, string[]>, key: string, value: string): void {
  const values = multi[key];
  if (values === undefined) multi[key] = [value];
  else values.push(value);
}

function lastValues(multi: Record<string, string[]>): Record<string, string> {
  const single: Record<string, string> = {};
  for (const [key, values] of Object.entries(multi)) {
    const last = values.at(-1);
    if (last !== undefined) single[key] = last;
  }
  return single;
}

function traceId(): string {
  const seconds = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')}`;
}
