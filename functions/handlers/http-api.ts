/**
 * The HTTP API (DESIGN.md "HTTP API", payload format 2.0): the caller's inbox and
 * preferences, behind the Lambda authorizer. Routes are API Gateway route keys; the
 * caller is whoever the authorizer's context names, so no route takes a user or tenant
 * from the request.
 */
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { HttpRouteKey } from '../../infra/topology';
import { ApiGatewayDelivery } from '../adapters/api-gateway-delivery';
import { createManagementClient, dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store';
import { DynamoInbox } from '../adapters/dynamo-inbox';
import { DynamoPreferenceStore } from '../adapters/dynamo-preference-store';
import { logger } from '../adapters/powertools';
import { intEnv, requireEnv, wiredOnFirstCall } from '../config/config';
import { ENV } from '../config/env-names';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  RetryableError,
  toErrorBody,
  UnauthorizedError,
} from '../core/errors';
import { identityFromAuthorizerContext } from '../core/identity';
import { createInboxService, DEFAULT_INBOX_SETTINGS, type InboxService } from '../core/inbox';
import type { Identity } from '../core/model';
import { systemClock } from '../core/ports';
import { createPreferencesService, type PreferencesService } from '../core/preferences';

export type HttpApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<unknown>;
export type HttpApiResult = APIGatewayProxyStructuredResultV2;

export interface HttpApiDeps {
  inbox: Pick<
    InboxService,
    'list' | 'state' | 'markRead' | 'markUnread' | 'markAllRead' | 'remove'
  >;
  preferences: Pick<PreferencesService, 'get' | 'put'>;
}

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Preferences are small; anything near this is not a preferences document. */
const MAX_BODY_BYTES = 64 * 1024;

type Route = (caller: Identity, event: HttpApiEvent) => Promise<unknown>;

/** The one mapping from Herald's errors to HTTP statuses; anything unknown is a 500. */
export function statusOf(error: unknown): number {
  if (error instanceof BadRequestError) return 400;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof RetryableError) return 503;
  return 500;
}

function json(statusCode: number, body: unknown): HttpApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function idOf(event: HttpApiEvent): string {
  const id = event.pathParameters?.id;
  if (id === undefined || id === '') throw new BadRequestError('a notification id is required');
  return id;
}

function listQuery(event: HttpApiEvent) {
  const { limit, cursor, unread } = event.queryStringParameters ?? {};
  // Repeated parameters arrive comma-joined, and fail these checks as they should.
  if (limit !== undefined && !/^[0-9]{1,3}$/.test(limit)) {
    throw new BadRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  const size = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
  if (size < 1 || size > MAX_PAGE_LIMIT) {
    throw new BadRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  if (unread !== undefined && unread !== 'true' && unread !== 'false') {
    throw new BadRequestError('unread must be "true" or "false"');
  }
  if (cursor === '') throw new BadRequestError('cursor is not valid');
  return { limit: size, cursor, unreadOnly: unread === 'true' };
}

function jsonBody(event: HttpApiEvent): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new BadRequestError('body is too large');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('body must be JSON', 'bad_request', { cause: error });
  }
}

export function makeHandler(deps: HttpApiDeps) {
  const { inbox, preferences } = deps;
  const routes = {
    'GET /notifications': (caller, event) => inbox.list(caller, listQuery(event)),
    'GET /notifications/unread-count': (caller) => inbox.state(caller),
    'POST /notifications/{id}/read': async (caller, event) => {
      const { unread, notFound } = await inbox.markRead(caller, [idOf(event)]);
      if (notFound.length > 0) throw new NotFoundError('notification not found');
      return { unread };
    },
    'POST /notifications/{id}/unread': (caller, event) => inbox.markUnread(caller, idOf(event)),
    'POST /notifications/read-all': (caller) => inbox.markAllRead(caller),
    'DELETE /notifications/{id}': (caller, event) => inbox.remove(caller, idOf(event)),
    'GET /preferences': (caller) => preferences.get(caller),
    'PUT /preferences': (caller, event) => preferences.put(caller, jsonBody(event)),
  } satisfies Record<HttpRouteKey, Route>;
  const byKey: ReadonlyMap<string, Route> = new Map(Object.entries(routes));

  return async (event: HttpApiEvent, context?: Context): Promise<HttpApiResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const route = byKey.get(event.routeKey);
      if (route === undefined) throw new NotFoundError(`no route ${event.routeKey}`);
      const caller = identityFromAuthorizerContext(event.requestContext.authorizer?.lambda);
      return json(200, await route(caller, event));
    } catch (error) {
      const status = statusOf(error);
      if (status === 500) {
        logger.error('http api request failed', { routeKey: event.routeKey, error });
      } else if (status > 500) {
        logger.warn('http api request deferred', { routeKey: event.routeKey, error });
      }
      return json(status, { error: toErrorBody(error) });
    }
  };
}

export const handler = wiredOnFirstCall(() => {
  const doc = dynamoDocumentClient();
  const notificationsTable = requireEnv(ENV.notificationsTable);
  const concurrency = intEnv(ENV.deliveryConcurrency, DEFAULT_INBOX_SETTINGS.concurrency, {
    min: 1,
    max: 10_000,
  });
  return makeHandler({
    inbox: createInboxService({
      inbox: new DynamoInbox(doc, notificationsTable),
      connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
      delivery: new ApiGatewayDelivery(
        createManagementClient(requireEnv(ENV.callbackUrl), concurrency),
      ),
      clock: systemClock,
      settings: { concurrency },
      onPushProblem: ({ what, error }) => logger.warn('state push problem', { what, error }),
    }),
    preferences: createPreferencesService({
      store: new DynamoPreferenceStore(doc, notificationsTable),
    }),
  });
});
