/**
 * How tokens are verified, read from the environment once per container and validated, so a
 * misconfigured stage fails at cold start instead of on some later request.
 */
import { ConfigError } from './config';
import { ENV } from './env-names';

/** HS256 keys shorter than the hash output are brute-forceable (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

interface Claims {
  issuer?: string;
  /** Accepted audiences; a token must name at least one. */
  audience?: string[];
}

export type AuthConfig =
  | ({ mode: 'jwks'; jwksUrl: URL } & Claims)
  | ({
      mode: 'secret';
      secret: { kind: 'value'; bytes: Uint8Array } | { kind: 'arn'; arn: string };
    } & Claims)
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

function parseSecret(raw: string): Uint8Array {
  const bytes = new TextEncoder().encode(raw);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`${ENV.jwtSecret} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

function parseClaims(env: Env): Claims {
  const claims: Claims = {};
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
  if (jwksUrl !== undefined) {
    return { mode: 'jwks', jwksUrl: parseJwksUrl(jwksUrl), ...parseClaims(env) };
  }
  if (secret !== undefined && secretArn !== undefined) {
    // Two sources of one key: whichever won, someone would be surprised.
    throw new ConfigError(`set only one of ${ENV.jwtSecret} and ${ENV.jwtSecretArn}`);
  }
  if (secret !== undefined) {
    return {
      mode: 'secret',
      secret: { kind: 'value', bytes: parseSecret(secret) },
      ...parseClaims(env),
    };
  }
  if (secretArn !== undefined) {
    return { mode: 'secret', secret: { kind: 'arn', arn: secretArn }, ...parseClaims(env) };
  }
  return { mode: 'none' };
}

let loaded: AuthConfig | undefined;
/** The container's auth config, parsed from `process.env` on first use. */
export function authConfig(): AuthConfig {
  loaded ??= parseAuthConfig(process.env);
  return loaded;
}
