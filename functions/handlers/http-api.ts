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
import { DynamoSnoozeInbox } from '#adapters/dynamo-snooze-inbox';
import { DynamoUserStateStore } from '#adapters/dynamo-user-state';
import { verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { authConfig } from '#config/auth-config';
import {
  deliveryConcurrency,
  idempotencySeconds,
  requireEnv,
  wiredOnFirstCall,
} from '#config/config';
import { ENV } from '#config/env-names';
import type { HttpRouteKey } from '#config/topology';
import { DEFAULT_RETRY } from '#core/deliver';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  RetryableError,
  toErrorBody,
  UnauthorizedError,
} from '#core/errors';
import { createInboxService, DEFAULT_INBOX_SETTINGS, type InboxService } from '#core/inbox';
import { createLimiter } from '#core/limiter';
import type { Identity } from '#core/model';
import { systemClock, type TokenVerifier } from '#core/ports';
import { createPreferencesService, type PreferencesService } from '#core/preferences';
import { createPusher } from '#core/push';
import { createSnoozeService, type SnoozeService } from '#core/snooze';
import { createUserStateService, type UserStateService } from '#core/user-state-service';
import {
  bearerTokenOf,
  bulkRequestOf,
  countsRequestOf,
  interactionOf,
  jsonBodyOf,
  listQueryOf,
  notificationIdOf,
  stateRequestOf,
  userIdOf,
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
    | 'countFilters'
    | 'bulk'
  >;
  preferences: Pick<PreferencesService, 'get' | 'put'>;
  states: Pick<UserStateService, 'view' | 'change'>;
  snooze: Pick<SnoozeService, 'snooze' | 'unsnooze'>;
}

type Route = (caller: Identity, event: HttpApiEvent) => Promise<unknown>;

/** Routes a service credential calls; every other route is a user's, on their own data. */
const SERVICE_ROUTES: ReadonlySet<string> = new Set<HttpRouteKey>(['POST /users/{userId}/state']);

/** Refuses a user's token on a service route, and a service credential on a user's route. */
function checkRole(routeKey: string, caller: Identity): void {
  const serviceRoute = SERVICE_ROUTES.has(routeKey);
  if (serviceRoute && caller.role !== 'service') {
    throw new ForbiddenError('this route takes a service credential ("herald:role": "service")');
  }
  if (!serviceRoute && caller.role === 'service') {
    throw new ForbiddenError("a service credential is not a user: use the user's own token");
  }
}

/** A route's answer with a status other than 200. */
class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

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
  const { verifier, inbox, preferences, states, snooze } = deps;
  const routes = {
    'GET /notifications': (caller, event) => inbox.list(caller, listQueryOf(event)),
    'GET /notifications/unread-count': async (caller) => {
      const { unread, unseen } = await inbox.state(caller);
      return { unread, unseen };
    },
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
    'POST /notifications/counts': (caller, event) =>
      inbox.countFilters(caller, countsRequestOf(event)),
    'POST /notifications/bulk': async (caller, event) => {
      const result = await inbox.bulk(caller, bulkRequestOf(event));
      // Not finished within one request: 202, and the client calls again with the cursor.
      return result.done ? result : new Answer(202, result);
    },
    'POST /notifications/{id}/snooze': (caller, event) =>
      snooze.snooze(caller, notificationIdOf(event), jsonBodyOf(event)),
    'POST /notifications/{id}/unsnooze': (caller, event) =>
      snooze.unsnooze(caller, notificationIdOf(event)),
    'DELETE /notifications/{id}': (caller, event) => inbox.remove(caller, notificationIdOf(event)),
    'GET /preferences': (caller) => preferences.get(caller),
    'PUT /preferences': (caller, event) => preferences.put(caller, jsonBodyOf(event)),
    'GET /state': (caller) => states.view(caller),
    // The service's tenant, from its token: a service acts on its own tenant's users only.
    'POST /users/{userId}/state': async (caller, event) => {
      const { id, change } = stateRequestOf(event);
      const owner = { tenant: caller.tenant, userId: userIdOf(event) };
      const { applied, state } = await states.change(owner, id, change);
      return { applied, state };
    },
  } satisfies Record<HttpRouteKey, Route>;
  const byKey: ReadonlyMap<string, Route> = new Map(Object.entries(routes));

  return async (event: HttpApiEvent, context?: Context): Promise<HttpApiResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const route = byKey.get(event.routeKey);
      if (route === undefined) throw new NotFoundError(`no route ${event.routeKey}`);
      const caller = await callerOf(verifier, event);
      checkRole(event.routeKey, caller);
      const answer = await route(caller, event);
      return answer instanceof Answer ? json(answer.status, answer.body) : json(200, answer);
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
  const owned = new DynamoOwnerInbox(doc, notificationsTable);
  const appState = new DynamoUserStateStore(doc, notificationsTable);
  const connections = new DynamoConnectionStore(doc, requireEnv(ENV.connectionsTable));
  const delivery = createSignedPostDelivery(requireEnv(ENV.callbackUrl), concurrency);
  const limiter = createLimiter(concurrency);
  const onPushProblem = ({ what, error }: { what: string; error: unknown }) =>
    logger.warn('state push problem', { what, error });
  const inbox = createInboxService({
    inbox: owned,
    appState,
    connections,
    delivery,
    clock: systemClock,
    limiter,
    settings: { concurrency },
    onPushProblem,
  });
  const pusher = createPusher({
    connections,
    delivery,
    limiter,
    clock: systemClock,
    retry: DEFAULT_RETRY,
    pruneConcurrency: concurrency,
  });
  return makeHandler({
    verifier: verifierFromConfig(authConfig()),
    inbox,
    states: createUserStateService({
      store: appState,
      counts: owned,
      pusher,
      clock: systemClock,
      idempotencySeconds: idempotencySeconds(),
      onPushProblem,
    }),
    preferences: createPreferencesService({
      store: new DynamoPreferenceStore(doc, notificationsTable),
    }),
    snooze: createSnoozeService({
      snoozes: new DynamoSnoozeInbox(doc, notificationsTable),
      inbox,
      pusher,
      clock: systemClock,
    }),
  });
});
