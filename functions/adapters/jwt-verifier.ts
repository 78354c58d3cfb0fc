/**
 * Verifies bearer JWTs with jose: HS256 with a shared secret (given, or fetched from Secrets
 * Manager and fetched again after a TTL, so a rotation takes effect within it), or
 * RS256/ES256 against a remote JWKS. Every refusal is an
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
import {
  DEFAULT_SECRET_REFRESH_SECONDS,
  DEV_JWT_SECRET,
  MIN_SECRET_BYTES,
} from '#config/auth-config';
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
      /** Seconds a fetched value is used before the next call fetches it again (300). */
      refreshSeconds?: number;
      /** Refuse the public dev secret when it is what the secret holds (a deployed stage). */
      refuseDevSecret?: boolean;
    }
  | { kind: 'jwks'; url: URL };

export interface JwtVerifierOptions {
  key: KeySource;
  issuer?: string;
  audience?: string | string[];
  /** The `typ` header a token must carry; unchecked when absent. */
  typ?: string;
  /** The longest validity a token may claim: `exp - iat`, or `exp - now` without `iat`. */
  maxLifetimeSeconds?: number;
  /** Milliseconds since the epoch; the system clock by default (tests pass their own). */
  now?: () => number;
}

/** The verification key could not be obtained: Herald's problem, not the caller's. */
class KeyUnavailable extends Error {
  override name = 'KeyUnavailable';
}

const DEV_SECRET_BYTES = new TextEncoder().encode(DEV_JWT_SECRET);

function isDevSecret(bytes: Uint8Array): boolean {
  return Buffer.from(bytes).equals(Buffer.from(DEV_SECRET_BYTES));
}

function secretBytes(value: unknown, refuseDevSecret = false): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_BYTES) {
    throw new KeyUnavailable(`JWT secret is missing or shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  if (refuseDevSecret && isDevSecret(bytes)) {
    throw new KeyUnavailable('JWT secret is the public dev secret, refused on a deployed stage');
  }
  return bytes;
}

/**
 * Fetches the secret on first use and keeps it for `refreshSeconds`; the first call after
 * that fetches it again, so a rotated (leaked) secret stops being accepted within the TTL.
 * A failed fetch fails closed and is retried on the next call.
 */
function refreshingSecret(
  key: Extract<KeySource, { kind: 'secret-arn' }>,
  now: () => number,
): JWTVerifyGetKey {
  const loadSecret = key.loadSecret ?? ((arn: string) => getSecret(arn));
  const refreshMs = (key.refreshSeconds ?? DEFAULT_SECRET_REFRESH_SECONDS) * 1000;
  let pending: Promise<Uint8Array> | undefined;
  let fetchedAt = 0;
  return () => {
    if (pending !== undefined && now() - fetchedAt >= refreshMs) {
      pending = undefined;
    }
    if (pending === undefined) {
      fetchedAt = now();
      const fetching = loadSecret(key.arn).then(
        (value) => secretBytes(value, key.refuseDevSecret),
        (error: unknown) => {
          throw new KeyUnavailable('could not fetch the JWT secret', { cause: error });
        },
      );
      fetching.catch(() => {
        if (pending === fetching) pending = undefined;
      });
      pending = fetching;
    }
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
    case 'typ':
      return 'wrong token type';
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

/** Refuses a token valid for longer than `maxSeconds`, counted from `iat` (else from now). */
function checkLifetime(payload: Record<string, unknown>, maxSeconds: number, nowMs: number) {
  const { exp, iat } = payload;
  if (typeof exp !== 'number') return; // jose already required a numeric `exp`
  const from = typeof iat === 'number' ? iat : nowMs / 1000;
  if (exp - from > maxSeconds + CLOCK_TOLERANCE_SECONDS) {
    throw new UnauthorizedError('token lifetime too long');
  }
}

export class JwtVerifier implements TokenVerifier {
  readonly #getKey: JWTVerifyGetKey;
  readonly #options: JWTVerifyOptions;
  readonly #maxLifetimeSeconds: number | undefined;
  readonly #now: () => number;

  constructor(options: JwtVerifierOptions) {
    const { key } = options;
    this.#now = options.now ?? Date.now;
    this.#maxLifetimeSeconds = options.maxLifetimeSeconds;
    if (key.kind === 'secret') {
      const bytes = secretBytes(key.secret);
      this.#getKey = async () => bytes;
    } else if (key.kind === 'secret-arn') {
      this.#getKey = refreshingSecret(key, this.#now);
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
    if (options.typ !== undefined) this.#options.typ = options.typ;
  }

  async verify(token: string): Promise<Identity> {
    if (typeof token !== 'string' || token === '') throw new UnauthorizedError('token missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthorizedError('token too long');
    let payload: Record<string, unknown>;
    try {
      const currentDate = new Date(this.#now());
      ({ payload } = await jwtVerify(token, this.#getKey, { ...this.#options, currentDate }));
    } catch (error) {
      if (error instanceof KeyUnavailable) {
        // Every caller is refused until this clears: worth an operator's attention.
        logger.error('JWT verification key unavailable', { error });
      }
      throw new UnauthorizedError(reasonFor(error), { cause: error });
    }
    if (this.#maxLifetimeSeconds !== undefined) {
      checkLifetime(payload, this.#maxLifetimeSeconds, this.#now());
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
  const options: JwtVerifierOptions = {
    key: keySourceOf(config),
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  };
  if (config.issuer !== undefined) options.issuer = config.issuer;
  if (config.audience !== undefined) options.audience = config.audience;
  if (config.typ !== undefined) options.typ = config.typ;
  if (config.mode === 'jwks' && config.audience === undefined) {
    logger.warn('JWKS verification without an audience check accepts any token its issuer signs');
  }
  return new JwtVerifier(options);
}

function keySourceOf(config: Exclude<AuthConfig, { mode: 'none' }>): KeySource {
  if (config.mode === 'jwks') return { kind: 'jwks', url: config.jwksUrl };
  const { secret } = config;
  if (secret.kind === 'value') return { kind: 'secret', secret: secret.bytes };
  return {
    kind: 'secret-arn',
    arn: secret.arn,
    refreshSeconds: secret.refreshSeconds,
    refuseDevSecret: secret.refuseDevSecret,
  };
}
