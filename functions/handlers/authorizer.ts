/**
 * `$connect` REQUEST authorizer (identity source `route.request.querystring.token`): verifies
 * the token and hands the caller's identity to every route as the authorizer context. It
 * touches no store, so a refused connect writes nothing.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { authConfig } from '#config/auth-config';
import { wiredOnFirstCall } from '#config/config';
import { UnauthorizedError } from '#core/errors';
import { toAuthorizerContext } from '#core/identity';
import type { TokenVerifier } from '#core/ports';
import { logRefusal } from './refusal-log';

export interface AuthorizerDeps {
  verifier: TokenVerifier;
}

/** The token, unless it is absent or sent more than once (which one would count is unclear). */
function tokenOf(event: APIGatewayRequestAuthorizerEvent): string | undefined {
  const all = event.multiValueQueryStringParameters?.token;
  if (all !== undefined && all.length > 1) return undefined;
  return event.queryStringParameters?.token || undefined;
}

export function makeHandler(deps: AuthorizerDeps) {
  return async (
    event: APIGatewayRequestAuthorizerEvent,
    context?: Context,
  ): Promise<APIGatewayAuthorizerResult> => {
    if (context !== undefined) logger.addContext(context);
    try {
      const token = tokenOf(event);
      if (token === undefined) throw new UnauthorizedError('token missing or repeated');
      const identity = await deps.verifier.verify(token);
      // A service credential acts on users; it is nobody's socket.
      if (identity.role !== undefined)
        throw new UnauthorizedError('a service token cannot connect');
      return {
        principalId: identity.userId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context: toAuthorizerContext(identity),
      };
    } catch (error) {
      logRefusal(error, 'connect');
      // This exact message is what API Gateway answers with HTTP 401; any other error is a 500.
      throw new Error('Unauthorized');
    }
  };
}

export const handler = wiredOnFirstCall(() =>
  makeHandler({ verifier: verifierFromConfig(authConfig()) }),
);
