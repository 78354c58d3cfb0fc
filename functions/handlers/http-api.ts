/**
 * The HTTP API (DESIGN.md "HTTP API", payload format 2.0): the caller's inbox and
 * preferences. The handler verifies `Authorization: Bearer <JWT>` itself, with the verifier
 * the WebSocket authorizer uses: an API Gateway authorizer would answer refusals with its
 * own bodies (401 `{"message":"Unauthorized"}`, 403 `{"message":"Forbidden"}`), which HTTP
 * APIs cannot change, while the contract is `{"error":{...}}` with 401. The caller is whoever
 * the verified token names, so no route takes a user or tenant from the request.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createSignedPostDelivery, dynamoDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { authConfig } from '#config/auth-config';
import { deliveryConcurrency, requireEnv, wiredOnFirstCall } from '#config/config';
import { ENV } from '#config/env-names';
import type { HttpRouteKey } from '#config/topology';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  RetryableError,
  toErrorBody,
  UnauthorizedError,
} from '#core/errors';
import { createInboxService, DEFAULT_INBOX_SETTINGS, type InboxService } from '#core/inbox';
import type { Identity } from '#core/model';
import { systemClock, type TokenVerifier } from '#core/ports';
import { createPreferencesService, type PreferencesService } from '#core/preferences';
import {
  bearerTokenOf,
  interactionOf,
  jsonBodyOf,
  listQueryOf,
  notificationIdOf,
} from './http-request';

export type HttpApiEvent = APIGatewayProxyEventV2;
export type HttpApiResult = APIGatewayProxyStructuredResultV2;

export interface HttpApiDeps {
  /** Verifies the bearer token; created once per container, as it caches keys and secret. */
  verifier: TokenVerifier;
  inbox: Pick<
    InboxService,
    | 'list'
    | 'state'
    | 'markRead'
    | 'markUnread'
    | 'markAllRead'
    | 'markAllSeen'
    | 'change'
    | 'interact'
    | 'remove'
  >;
  preferences: Pick<PreferencesService, 'get' | 'put'>;
}

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
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  };
  // RFC 9110: a 401 names the scheme that would be accepted.
  if (statusCode === 401) headers['www-authenticate'] = 'Bearer';
  return { statusCode, headers, body: JSON.stringify(body) };
}

async function callerOf(verifier: TokenVerifier, event: HttpApiEvent): Promise<Identity> {
  const token = bearerTokenOf(event);
  try {
    return await verifier.verify(token);
  } catch (error) {
    if (error instanceof UnauthorizedError) throw error;
    // Not a verdict on the token but a fault; its name only, as its text may echo input.
    logger.error('token verification failed unexpectedly', {
      errorName: error instanceof Error ? error.name : typeof error,
    });
    throw new UnauthorizedError('token could not be verified');
  }
}

export function makeHandler(deps: HttpApiDeps) {
  const { verifier, inbox, preferences } = deps;
  const routes = {
    'GET /notifications': (caller, event) => inbox.list(caller, listQueryOf(event)),
    'GET /notifications/unread-count': (caller) => inbox.state(caller),
    'POST /notifications/{id}/read': async (caller, event) => {
      const { notFound, ...counts } = await inbox.markRead(caller, [notificationIdOf(event)]);
      if (notFound.length > 0) throw new NotFoundError('notification not found');
      return counts;
    },
    'POST /notifications/{id}/unread': (caller, event) =>
      inbox.markUnread(caller, notificationIdOf(event)),
    'POST /notifications/read-all': (caller) => inbox.markAllRead(caller),
    'POST /notifications/{id}/seen': (caller, event) =>
      inbox.change(caller, notificationIdOf(event), 'seen'),
    'POST /notifications/{id}/archive': (caller, event) =>
      inbox.change(caller, notificationIdOf(event), 'archive'),
    'POST /notifications/{id}/unarchive': (caller, event) =>
      inbox.change(caller, notificationIdOf(event), 'unarchive'),
    'POST /notifications/{id}/interact': (caller, event) =>
      inbox.interact(caller, notificationIdOf(event), interactionOf(event)),
    'POST /notifications/seen-all': (caller) => inbox.markAllSeen(caller),
    'DELETE /notifications/{id}': (caller, event) => inbox.remove(caller, notificationIdOf(event)),
    'GET /preferences': (caller) => preferences.get(caller),
    'PUT /preferences': (caller, event) => preferences.put(caller, jsonBodyOf(event)),
  } satisfies Record<HttpRouteKey, Route>;
  const byKey: ReadonlyMap<string, Route> = new Map(Object.entries(routes));

  return async (event: HttpApiEvent, context?: Context): Promise<HttpApiResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const route = byKey.get(event.routeKey);
      if (route === undefined) throw new NotFoundError(`no route ${event.routeKey}`);
      const caller = await callerOf(verifier, event);
      return json(200, await route(caller, event));
    } catch (error) {
      const status = statusOf(error);
      if (status === 401) {
        // An ordinary refusal: its short reason, which never holds the token.
        logger.info('request refused', {
          routeKey: event.routeKey,
          reason: toErrorBody(error).message,
        });
      } else if (status === 500) {
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
  const concurrency = deliveryConcurrency(DEFAULT_INBOX_SETTINGS.concurrency);
  return makeHandler({
    verifier: verifierFromConfig(authConfig()),
    inbox: createInboxService({
      inbox: new DynamoOwnerInbox(doc, notificationsTable),
      connections: new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable)),
      delivery: createSignedPostDelivery(requireEnv(ENV.callbackUrl), concurrency),
      clock: systemClock,
      settings: { concurrency },
      onPushProblem: ({ what, error }) => logger.warn('state push problem', { what, error }),
    }),
    preferences: createPreferencesService({
      store: new DynamoPreferenceStore(doc, notificationsTable),
    }),
  });
});
