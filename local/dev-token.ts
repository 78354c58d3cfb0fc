/**
 * Signs HS256 tokens for local development and tests, and prints one when run directly:
 *
 *   tsx local/dev-token.ts alice --tenant acme --topics 'project.*' --email a@example.com --ttl 3600
 *   tsx local/dev-token.ts billing --tenant acme --service   # a service credential
 *
 * The secret is `HERALD_JWT_SECRET`, else DEV_JWT_SECRET; issuer and audience default to
 * `HERALD_JWT_ISSUER` / `HERALD_JWT_AUDIENCE`. Only the token is printed, so it can be
 * captured with `$(...)`.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '#config/auth-config';
import { ENV } from '#config/env-names';
import { identityFromClaims, ROLE_CLAIM, SERVICE_ROLE } from '#core/identity';
import { runDirectly } from './run-directly';

/**
 * INSECURE, public, for local development only: anyone can mint tokens with it. The local
 * stack uses it when `HERALD_JWT_SECRET` is unset; a deployed stage refuses it.
 */
export { DEV_JWT_SECRET };

export interface DevTokenOptions {
  userId: string;
  tenant?: string;
  topics?: string[];
  email?: string;
  /** Lifetime in seconds; one hour by default. */
  ttlSeconds?: number;
  /** A service credential (`"herald:role": "service"`, for the state route) instead of a user's token. */
  service?: boolean;
  secret: string;
  issuer?: string;
  audience?: string;
}

/** An HS256 token with the claims Herald reads; refuses claims Herald itself would refuse. */
export async function signDevToken(options: DevTokenOptions): Promise<string> {
  const claims: Record<string, unknown> = { sub: options.userId };
  if (options.tenant !== undefined) claims.tenant = options.tenant;
  if (options.topics !== undefined && options.topics.length > 0) claims.topics = options.topics;
  if (options.email !== undefined) claims.email = options.email;
  if (options.service === true) claims[ROLE_CLAIM] = SERVICE_ROLE;
  identityFromClaims(claims);
  const ttlSeconds = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError('ttlSeconds must be a positive whole number');
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

const USAGE =
  'usage: dev-token <userId> [--tenant t] [--topics "a.* b.>"]... [--email e] [--ttl seconds] [--service]';

/** The CLI: arguments in, token out. Exported so tests drive it without a child process. */
export async function devTokenCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      topics: { type: 'string', multiple: true },
      email: { type: 'string' },
      ttl: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      service: { type: 'boolean' },
    },
  });
  const [userId, ...rest] = positionals;
  if (userId === undefined || rest.length > 0) throw new Error(USAGE);
  const options: DevTokenOptions = {
    userId,
    secret: env[ENV.jwtSecret] || DEV_JWT_SECRET,
    topics: (values.topics ?? []).flatMap((value) => value.split(/[\s,]+/)).filter(Boolean),
  };
  if (values.tenant !== undefined) options.tenant = values.tenant;
  if (values.email !== undefined) options.email = values.email;
  if (values.ttl !== undefined) options.ttlSeconds = Number(values.ttl);
  if (values.service === true) options.service = true;
  const issuer = values.issuer ?? env[ENV.jwtIssuer];
  if (issuer) options.issuer = issuer;
  const audience = values.audience ?? env[ENV.jwtAudience]?.split(',')[0]?.trim();
  if (audience) options.audience = audience;
  return signDevToken(options);
}

if (runDirectly(import.meta.url)) {
  devTokenCli(process.argv.slice(2), process.env).then(
    (token) => process.stdout.write(`${token}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
