/**
 * The HTTP API's Lambda REQUEST authorizer (payload 2.0, simple responses; identity source
 * `$request.header.Authorization`, results cached by that header). It refuses a request
 * without a valid token before the inbox function runs, so a flood of junk tokens costs an
 * authorizer invocation per distinct token, not an inbox invocation each, and a repeated
 * junk token costs nothing once its refusal is cached. The inbox function still verifies the
 * token itself: a cached allow outlives a token that expires within the cache TTL.
 */
import type { APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { authConfig } from '#config/auth-config';
import { wiredOnFirstCall } from '#config/config';
import { type AuthorizerContext, toAuthorizerContext } from '#core/identity';
import type { TokenVerifier } from '#core/ports';
import { bearerTokenOf } from './http-request';
import { logRefusal } from './refusal-log';

export interface HttpAuthorizerDeps {
  verifier: TokenVerifier;
}

/** API Gateway's simple response: allow or deny, and the caller for the route's event. */
export type HttpAuthorizerResult =
  | { isAuthorized: true; context: AuthorizerContext }
  | { isAuthorized: false };

export function makeHandler(deps: HttpAuthorizerDeps) {
  return async (
    event: APIGatewayRequestAuthorizerEventV2,
    context?: Context,
  ): Promise<HttpAuthorizerResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const identity = await deps.verifier.verify(bearerTokenOf(event));
      return { isAuthorized: true, context: toAuthorizerContext(identity) };
    } catch (error) {
      logRefusal(error, 'http request');
      // API Gateway answers 403 {"message":"Forbidden"} and caches this denial too.
      return { isAuthorized: false };
    }
  };
}

export const handler = wiredOnFirstCall(() =>
  makeHandler({ verifier: verifierFromConfig(authConfig()) }),
);
