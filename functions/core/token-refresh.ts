/**
 * The `refresh` frame: a client hands a fresh token to extend its connection, which
 * otherwise ends when the token it connected with expires. The token is verified as
 * `$connect` verifies one, and must name the same user and tenant.
 */
import * as z from 'zod';
import { HeraldError, UnauthorizedError } from './errors';
import type { Identity } from './model';
import type { ConnectionLifetimes, TokenVerifier } from './ports';

/** As long as a token the authorizer takes (`MAX_TOKEN_LENGTH` of the verifier). */
const MAX_TOKEN_LENGTH = 8 * 1024;

const refreshArgs = z.looseObject({ token: z.string().min(1).max(MAX_TOKEN_LENGTH) });

export interface TokenRefreshDeps {
  verifier: TokenVerifier;
  lifetimes: Pick<ConnectionLifetimes, 'extend'>;
}

/** Extends the caller's connection to the new token's expiry; answers the expiry it now holds. */
export function createTokenRefresh(deps: TokenRefreshDeps) {
  return async function refresh(
    args: unknown,
    caller: { identity: Identity; connectionId: string },
  ): Promise<{ expiresAt: number }> {
    const parsed = refreshArgs.safeParse(args);
    if (!parsed.success) {
      throw new HeraldError('bad_request', '"token" must be a token (a JWT string)');
    }
    let identity: Identity;
    try {
      identity = await deps.verifier.verify(parsed.data.token);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      // The verifier's reasons are short and token-free; an expired one has its own code.
      const code = error.message === 'token expired' ? 'token_expired' : 'unauthorized';
      throw new HeraldError(code, `refresh refused: ${error.message}`);
    }
    const { tenant, userId } = caller.identity;
    if (identity.tenant !== tenant || identity.userId !== userId) {
      throw new HeraldError(
        'refresh_mismatch',
        'the new token must name the user and tenant this connection was opened for',
      );
    }
    if (identity.tokenExpiresAt === undefined) {
      throw new HeraldError('unauthorized', 'refresh refused: token has no expiry');
    }
    const expiresAt = await deps.lifetimes.extend(caller.connectionId, identity.tokenExpiresAt);
    return { expiresAt };
  };
}
