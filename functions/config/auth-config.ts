/**
 * How tokens are verified, read from the environment once per container and validated, so a
 * misconfigured stage fails at cold start instead of on some later request.
 */
import { ConfigError, intEnv } from './config';
import { ENV } from './env-names';

/** HS256 keys shorter than the hash output are brute-forceable (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;
/**
 * The secret `npm start` signs dev tokens with. It is public (it is in this repository), so
 * a deployed stage refuses it: whoever reads the code could mint any user's token.
 */
export const DEV_JWT_SECRET = 'herald-dev-only-INSECURE-jwt-secret-never-deploy';
/** `HERALD_STAGE` of the local stack; any other value, or none, is a deployed stage. */
export const LOCAL_STAGE = 'local';
/** How long a secret read from Secrets Manager is trusted before it is read again. */
export const DEFAULT_SECRET_REFRESH_SECONDS = 300;
/** The longest `exp - iat` (or `exp - now` without `iat`) a token may have. */
export const DEFAULT_MAX_LIFETIME_SECONDS = 24 * 3600;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

interface Claims {
  issuer?: string;
  /** Accepted audiences; a token must name at least one. */
  audience?: string[];
  /** The `typ` header every token must carry, when configured. */
  typ?: string;
  /** Tokens valid for longer than this are refused, however they are signed. */
  maxLifetimeSeconds: number;
}

export type SecretSource =
  | { kind: 'value'; bytes: Uint8Array }
  | {
      kind: 'arn';
      arn: string;
      /** Seconds a fetched value is used before it is fetched again (rotation). */
      refreshSeconds: number;
      /** A deployed stage refuses the dev secret once it has fetched it. */
      refuseDevSecret: boolean;
    };

export type AuthConfig =
  | ({ mode: 'jwks'; jwksUrl: URL } & Claims)
  | ({ mode: 'secret'; secret: SecretSource } & Claims)
  /** Nothing configured: every token is refused (fail closed). */
  | { mode: 'none' };

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function parseJwksUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new ConfigError(`${ENV.jwksUrl} is not a URL`, { cause: error });
  }
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new ConfigError(`${ENV.jwksUrl} must be https (http only for localhost)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`${ENV.jwksUrl} must not carry credentials`);
  }
  return url;
}

/** Whether this container runs a deployed stage: anything but the local stack is. */
export function isDeployed(env: Env): boolean {
  return read(env, ENV.stage) !== LOCAL_STAGE;
}

function parseSecret(raw: string, deployed: boolean): Uint8Array {
  const bytes = new TextEncoder().encode(raw);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`${ENV.jwtSecret} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (deployed && raw === DEV_JWT_SECRET) {
    throw new ConfigError(
      `${ENV.jwtSecret} is the public dev secret, which anyone can sign tokens with: a deployed ` +
        `stage refuses it (set a random secret of ${MIN_SECRET_BYTES}+ bytes)`,
    );
  }
  return bytes;
}

function parseClaims(env: Env): Claims {
  const claims: Claims = {
    maxLifetimeSeconds: intEnv(
      ENV.jwtMaxLifetimeSeconds,
      DEFAULT_MAX_LIFETIME_SECONDS,
      { min: 60, max: 30 * 24 * 3600 },
      env,
    ),
  };
  const typ = read(env, ENV.jwtTyp);
  if (typ !== undefined) claims.typ = typ;
  const issuer = read(env, ENV.jwtIssuer);
  if (issuer !== undefined) claims.issuer = issuer;
  const audience = read(env, ENV.jwtAudience)
    ?.split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (audience !== undefined && audience.length > 0) claims.audience = audience;
  return claims;
}

/** Parses and validates the auth settings. Throws ConfigError on a setting that is wrong. */
export function parseAuthConfig(env: Env): AuthConfig {
  const jwksUrl = read(env, ENV.jwksUrl);
  const secret = read(env, ENV.jwtSecret);
  const secretArn = read(env, ENV.jwtSecretArn);
  const deployed = isDeployed(env);
  if (jwksUrl !== undefined) {
    const config: AuthConfig = {
      mode: 'jwks',
      jwksUrl: parseJwksUrl(jwksUrl),
      ...parseClaims(env),
    };
    if (deployed && config.audience === undefined) {
      // Without it, any token the identity provider signs for any of its apps is accepted.
      throw new ConfigError(
        `${ENV.jwksUrl} needs ${ENV.jwtAudience}: a deployed stage refuses JWKS without an audience`,
      );
    }
    return config;
  }
  if (secret !== undefined && secretArn !== undefined) {
    // Two sources of one key: whichever won, someone would be surprised.
    throw new ConfigError(`set only one of ${ENV.jwtSecret} and ${ENV.jwtSecretArn}`);
  }
  if (secret !== undefined) {
    return {
      mode: 'secret',
      secret: { kind: 'value', bytes: parseSecret(secret, deployed) },
      ...parseClaims(env),
    };
  }
  if (secretArn !== undefined) {
    const refreshSeconds = intEnv(
      ENV.jwtSecretRefreshSeconds,
      DEFAULT_SECRET_REFRESH_SECONDS,
      { min: 1, max: 24 * 3600 },
      env,
    );
    return {
      mode: 'secret',
      secret: { kind: 'arn', arn: secretArn, refreshSeconds, refuseDevSecret: deployed },
      ...parseClaims(env),
    };
  }
  return { mode: 'none' };
}

let loaded: AuthConfig | undefined;
/** The container's auth config, parsed from `process.env` on first use. */
export function authConfig(): AuthConfig {
  loaded ??= parseAuthConfig(process.env);
  return loaded;
}
