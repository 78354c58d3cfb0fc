/**
 * The event an API Gateway HTTP API (payload format 2.0) hands its Lambda integration,
 * built from a local request the way AWS builds it: lower-cased headers with repeats
 * comma-joined, cookies apart, decoded query values comma-joined, the matched route key and
 * path parameters, a base64 body unless it is text. Herald's routes have no authorizer, so
 * the event carries none and the `Authorization` header reaches the handler as sent.
 */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayEventRequestContextV2, APIGatewayProxyEventV2 } from 'aws-lambda';
import { ACCOUNT_ID, awsId, formatRequestTime } from './gateway/events';

/** HTTP APIs have one `$default` stage unless told otherwise; Herald's has. */
export const HTTP_STAGE = '$default';

export interface MatchedRoute {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

/** A request as read off the socket, before any route saw it. */
export interface HttpRequest {
  method: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  cookies?: string[];
  queryStringParameters?: Record<string, string>;
  body: Buffer;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  timeEpoch: number;
}

/**
 * The route API Gateway would pick: same method, same number of segments, literal segments
 * equal; of several, the one with the most literal segments (`/notifications/read-all`
 * before `/notifications/{id}`).
 */
export function matchRoute(
  routeKeys: readonly string[],
  method: string,
  rawPath: string,
): MatchedRoute | undefined {
  const segments = rawPath.split('/').slice(1);
  let best: { route: MatchedRoute; literals: number } | undefined;
  for (const routeKey of routeKeys) {
    const [routeMethod, template = ''] = routeKey.split(' ');
    const parts = template.split('/').slice(1);
    if (routeMethod !== method || parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const matches = parts.every((part, i) => {
      const segment = segments[i] ?? '';
      const name = /^\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
      if (name === undefined) {
        literals++;
        return part === segment;
      }
      if (segment === '') return false;
      params[name] = safeDecode(segment);
      return true;
    });
    if (!matches || (best !== undefined && best.literals >= literals)) continue;
    const route: MatchedRoute =
      Object.keys(params).length > 0 ? { routeKey, pathParameters: params } : { routeKey };
    best = { route, literals };
  }
  return best?.route;
}

export function readHttpRequest(request: IncomingMessage, body: Buffer, now: number): HttpRequest {
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : url.slice(queryAt + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }
  const parsed: HttpRequest = {
    method: request.method ?? 'GET',
    rawPath,
    rawQueryString,
    headers,
    body,
    sourceIp,
    userAgent: headers['user-agent'] ?? '',
    domainName: headers.host ?? 'localhost',
    timeEpoch: now,
  };
  if (cookies !== undefined) parsed.cookies = cookies;
  if (Object.keys(query).length > 0) parsed.queryStringParameters = query;
  return parsed;
}

export function integrationEvent(
  request: HttpRequest,
  route: MatchedRoute,
  apiId: string,
): APIGatewayProxyEventV2 {
  const text = isText(request.headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    headers: request.headers,
    requestContext: requestContext(request, route, apiId),
    isBase64Encoded: request.body.length > 0 && !text,
  };
  if (request.cookies) event.cookies = request.cookies;
  if (request.queryStringParameters) event.queryStringParameters = request.queryStringParameters;
  if (route.pathParameters) event.pathParameters = route.pathParameters;
  if (request.body.length > 0) {
    event.body = text ? request.body.toString('utf8') : request.body.toString('base64');
  }
  return event;
}

function requestContext(
  request: HttpRequest,
  route: MatchedRoute,
  apiId: string,
): APIGatewayEventRequestContextV2 {
  return {
    accountId: ACCOUNT_ID,
    apiId,
    domainName: request.domainName,
    domainPrefix: request.domainName.split('.')[0] ?? request.domainName,
    http: {
      method: request.method,
      path: request.rawPath,
      protocol: 'HTTP/1.1',
      sourceIp: request.sourceIp,
      userAgent: request.userAgent,
    },
    requestId: awsId(),
    routeKey: route.routeKey,
    stage: HTTP_STAGE,
    time: formatRequestTime(request.timeEpoch),
    timeEpoch: request.timeEpoch,
  };
}

/** API Gateway passes text bodies as they are and base64-encodes everything else. */
function isText(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/javascript'
  );
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
