/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses; identity source
 * `$request.header.Authorization`): verifies `Bearer <JWT>` exactly as the WebSocket's
 * authorizer verifies its query-string token, and hands the caller's identity to the
 * route as `requestContext.authorizer.lambda`. It touches no store.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from 'aws-lambda';
import { verifierFromConfig } from '../adapters/jwt-verifier';
import { logger } from '../adapters/powertools';
import { authConfig } from '../config/auth-config';
import { UnauthorizedError } from '../core/errors';
import { type AuthorizerContext, toAuthorizerContext } from '../core/identity';
import type { TokenVerifier } from '../core/ports';

export interface HttpAuthorizerDeps {
  verifier: TokenVerifier;
}

export type HttpAuthorizerResult =
  | APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>
  | APIGatewaySimpleAuthorizerResult;

/** RFC 6750's `Bearer <token>`, the scheme case-insensitive; anything else is no token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function bearerToken(event: APIGatewayRequestAuthorizerEventV2): string {
  // HTTP APIs lower-case header names; a repeated header arrives comma-joined and fails here.
  const header = event.headers?.authorization ?? event.identitySource?.[0];
  const match = header === undefined ? null : BEARER.exec(header);
  if (!match?.[1]) throw new UnauthorizedError('no bearer token');
  return match[1];
}

export function makeHandler(deps: HttpAuthorizerDeps) {
  return async (
    event: APIGatewayRequestAuthorizerEventV2,
    context?: Context,
  ): Promise<HttpAuthorizerResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const identity = await deps.verifier.verify(bearerToken(event));
      return { isAuthorized: true, context: toAuthorizerContext(identity) };
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        // A short, token-free reason: an ordinary refusal.
        logger.info('request refused', { reason: error.message });
      } else {
        // Not a verdict on the token but a fault; its name only, as its text may echo input.
        logger.error('request refused by an unexpected error', {
          errorName: error instanceof Error ? error.name : typeof error,
        });
      }
      return { isAuthorized: false };
    }
  };
}

export const handler = makeHandler({ verifier: verifierFromConfig(authConfig()) });
