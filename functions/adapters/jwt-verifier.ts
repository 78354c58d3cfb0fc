/**
 * Verifies bearer JWTs with jose: HS256 with a shared secret (given, or fetched once from
 * Secrets Manager), or RS256/ES256 against a remote JWKS. Every refusal is an
 * UnauthorizedError with a short reason; the token itself is never put in an error or a log.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  createRemoteJWKSet,
  errors,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '#config/auth-config';
import { MIN_SECRET_BYTES } from '#config/auth-config';
import { UnauthorizedError } from '#core/errors';
import { identityFromClaims } from '#core/identity';
import type { Identity } from '#core/model';
import type { TokenVerifier } from '#core/ports';
import { logger } from './powertools';

/** Refused before parsing, so a huge query string costs no decoding. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** Absorbs clock skew between issuer and Lambda without stretching expiry noticeably. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Explicit allowlists: `none`, and HS256 against a public key (alg confusion), never pass. */
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export type KeySource =
  | { kind: 'secret'; secret: Uint8Array }
  | {
      kind: 'secret-arn';
      arn: string;
      /** Fetches the secret's value; defaults to Powertools `getSecret`. */
      loadSecret?: (arn: string) => Promise<unknown>;
    }
  | { kind: 'jwks'; url: URL };

export interface JwtVerifierOptions {
  key: KeySource;
  issuer?: string;
  audience?: string | string[];
}

/** The verification key could not be obtained: Herald's problem, not the caller's. */
class KeyUnavailable extends Error {
  override name = 'KeyUnavailable';
}

function secretBytes(value: unknown): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_BYTES) {
    throw new KeyUnavailable(`JWT secret is missing or shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

/** Fetches the secret on first use and keeps it; a failed fetch is retried on the next call. */
function lazySecret(arn: string, loadSecret: (arn: string) => Promise<unknown>): JWTVerifyGetKey {
  let pending: Promise<Uint8Array> | undefined;
  return () => {
    pending ??= loadSecret(arn).then(secretBytes, (error: unknown) => {
      throw new KeyUnavailable('could not fetch the JWT secret', { cause: error });
    });
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** jose's remote key set, with fetch failures told apart from tokens that name no key. */
function remoteKeys(url: URL): JWTVerifyGetKey {
  const keySet = createRemoteJWKSet(url);
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      const tokenProblem =
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported;
      if (tokenProblem) throw error;
      throw new KeyUnavailable('could not fetch the JWKS', { cause: error });
    }
  };
}

function claimReason(error: errors.JWTClaimValidationFailed): string {
  switch (error.claim) {
    case 'nbf':
      return 'token not yet valid';
    case 'iss':
      return 'wrong issuer';
    case 'aud':
      return 'wrong audience';
    case 'exp':
      return 'token has no valid expiry';
    default:
      return `invalid ${error.claim} claim`;
  }
}

/** A short, token-free reason for a failed verification. */
function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return claimReason(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSENotSupported) return 'algorithm not supported';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown signing key';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'ambiguous signing key';
  if (error instanceof KeyUnavailable) return 'verification key unavailable';
  return 'malformed token';
}

export class JwtVerifier implements TokenVerifier {
  readonly #getKey: JWTVerifyGetKey;
  readonly #options: JWTVerifyOptions;

  constructor(options: JwtVerifierOptions) {
    const { key } = options;
    if (key.kind === 'secret') {
      const bytes = secretBytes(key.secret);
      this.#getKey = async () => bytes;
    } else if (key.kind === 'secret-arn') {
      this.#getKey = lazySecret(key.arn, key.loadSecret ?? ((arn) => getSecret(arn)));
    } else {
      this.#getKey = remoteKeys(key.url);
    }
    this.#options = {
      algorithms: key.kind === 'jwks' ? JWKS_ALGORITHMS : SECRET_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    };
    if (options.issuer !== undefined) this.#options.issuer = options.issuer;
    if (options.audience !== undefined) this.#options.audience = options.audience;
  }

  async verify(token: string): Promise<Identity> {
    if (typeof token !== 'string' || token === '') throw new UnauthorizedError('token missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthorizedError('token too long');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, this.#options));
    } catch (error) {
      if (error instanceof KeyUnavailable) {
        // Every caller is refused until this clears: worth an operator's attention.
        logger.error('JWT verification key unavailable', { error });
      }
      throw new UnauthorizedError(reasonFor(error), { cause: error });
    }
    return identityFromClaims(payload);
  }
}

/** Refuses everything: the fail-closed verifier when no key is configured. */
class RefuseAll implements TokenVerifier {
  #logged = false;

  async verify(): Promise<Identity> {
    if (!this.#logged) {
      this.#logged = true;
      logger.error('no JWT verification configured: every token is refused');
    }
    throw new UnauthorizedError('token verification not configured');
  }
}

/** The verifier a container's auth config asks for. */
export function verifierFromConfig(config: AuthConfig): TokenVerifier {
  if (config.mode === 'none') return new RefuseAll();
  const options: JwtVerifierOptions =
    config.mode === 'jwks'
      ? { key: { kind: 'jwks', url: config.jwksUrl } }
      : {
          key:
            config.secret.kind === 'value'
              ? { kind: 'secret', secret: config.secret.bytes }
              : { kind: 'secret-arn', arn: config.secret.arn },
        };
  if (config.issuer !== undefined) options.issuer = config.issuer;
  if (config.audience !== undefined) options.audience = config.audience;
  if (config.mode === 'jwks' && config.audience === undefined) {
    logger.warn('JWKS verification without an audience check accepts any token its issuer signs');
  }
  return new JwtVerifier(options);
}
