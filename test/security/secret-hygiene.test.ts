/**
 * Issue 11 item 4: a leaked or careless secret is not trusted. Each attack here was accepted
 * on the earlier main (dev secret deployed, a rotated secret still accepted by warm
 * containers, JWKS without audience, any `typ`, any lifetime) and is refused now.
 */
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import {
  DEFAULT_MAX_LIFETIME_SECONDS,
  DEFAULT_SECRET_REFRESH_SECONDS,
  DEV_JWT_SECRET,
  LOCAL_STAGE,
  parseAuthConfig,
} from '#config/auth-config';
import { ConfigError } from '#config/config';
import { ENV } from '#config/env-names';
import { UnauthorizedError } from '#core/errors';
import { identityFromClaims } from '#core/identity';
import { OTHER_SECRET, secretBytes, signHs256, TEST_SECRET } from '#test/support/tokens';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:herald-jwt';
const JWKS = 'https://issuer.example/.well-known/jwks.json';

async function refusal(verifier: { verify(token: string): Promise<unknown> }, token: string) {
  const error = await verifier.verify(token).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  return (error as Error).message;
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
  vi.restoreAllMocks();
});

describe('the public dev secret', () => {
  it('is refused by a deployed stage (no HERALD_STAGE) with a ConfigError that says why', () => {
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: DEV_JWT_SECRET })).toThrow(ConfigError);
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: DEV_JWT_SECRET })).toThrow(/public dev secret/);
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: DEV_JWT_SECRET, [ENV.stage]: 'prod' })).toThrow(
      ConfigError,
    );
  });

  it('is still what the local stack runs with', () => {
    const config = parseAuthConfig({ [ENV.jwtSecret]: DEV_JWT_SECRET, [ENV.stage]: LOCAL_STAGE });
    expect(config.mode).toBe('secret');
  });

  it('fails the cold start of the deployed WebSocket authorizer', async () => {
    vi.stubEnv(ENV.stage, '');
    vi.stubEnv(ENV.jwtSecretArn, '');
    vi.stubEnv(ENV.jwksUrl, '');
    vi.stubEnv(ENV.jwtSecret, DEV_JWT_SECRET);
    const { handler } = await import('#handlers/authorizer');
    const event = { type: 'REQUEST', methodArn: 'arn', queryStringParameters: { token: 'x' } };
    // A fresh module graph: its ConfigError is another class object, so match by name.
    await expect(handler(event as never)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/public dev secret/),
    });
  });

  it('is refused when a deployed stage fetches it from Secrets Manager', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const config = parseAuthConfig({ [ENV.jwtSecretArn]: ARN });
    expect(config).toMatchObject({ secret: { kind: 'arn', refuseDevSecret: true } });
    const verifier = new JwtVerifier({
      key: {
        kind: 'secret-arn',
        arn: ARN,
        loadSecret: async () => DEV_JWT_SECRET,
        refuseDevSecret: true,
      },
    });
    const token = await signHs256({ sub: 'mallory' }, {}, DEV_JWT_SECRET);
    expect(await refusal(verifier, token)).toBe('verification key unavailable');
  });
});

describe('a short HS256 secret', () => {
  it('is refused at cold start, deployed or local', () => {
    for (const stage of ['', LOCAL_STAGE]) {
      expect(() =>
        parseAuthConfig({ [ENV.jwtSecret]: 'x'.repeat(31), [ENV.stage]: stage }),
      ).toThrow(/at least 32 bytes/);
    }
    expect(parseAuthConfig({ [ENV.jwtSecret]: 'x'.repeat(32) }).mode).toBe('secret');
  });
});

describe('rotation of a Secrets Manager secret', () => {
  it('stops accepting the old secret once the refresh TTL has passed', async () => {
    let stored = TEST_SECRET;
    let nowMs = Date.UTC(2026, 0, 1);
    const loadSecret = vi.fn(async () => stored);
    const verifier = new JwtVerifier({
      key: { kind: 'secret-arn', arn: ARN, loadSecret, refreshSeconds: 300 },
      now: () => nowMs,
    });
    const iat = Math.floor(nowMs / 1000);
    const signed = (secret: string) =>
      new SignJWT({ sub: 'alice' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(secretBytes(secret));
    const oldToken = await signed(TEST_SECRET);
    const newToken = await signed(OTHER_SECRET);
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ userId: 'alice' });

    stored = OTHER_SECRET; // the operator rotates the leaked secret
    nowMs += 299_000;
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ userId: 'alice' });
    nowMs += 1_000;
    expect(await refusal(verifier, oldToken)).toBe('bad signature');
    await expect(verifier.verify(newToken)).resolves.toMatchObject({ userId: 'alice' });
    expect(loadSecret).toHaveBeenCalledTimes(2);
  });

  it('reads its TTL from HERALD_JWT_SECRET_REFRESH_SECONDS (default 300 s)', () => {
    expect(parseAuthConfig({ [ENV.jwtSecretArn]: ARN })).toMatchObject({
      secret: { refreshSeconds: DEFAULT_SECRET_REFRESH_SECONDS },
    });
    expect(
      parseAuthConfig({ [ENV.jwtSecretArn]: ARN, [ENV.jwtSecretRefreshSeconds]: '60' }),
    ).toMatchObject({ secret: { refreshSeconds: 60 } });
    expect(() =>
      parseAuthConfig({ [ENV.jwtSecretArn]: ARN, [ENV.jwtSecretRefreshSeconds]: '0' }),
    ).toThrow(ConfigError);
  });
});

describe('JWKS without an audience', () => {
  it('fails the cold start of a deployed handler', () => {
    expect(() => parseAuthConfig({ [ENV.jwksUrl]: JWKS })).toThrow(/needs HERALD_JWT_AUDIENCE/);
    expect(parseAuthConfig({ [ENV.jwksUrl]: JWKS, [ENV.jwtAudience]: 'herald' }).mode).toBe('jwks');
  });
});

describe('a configured typ', () => {
  const verifier = verifierFromConfig(
    parseAuthConfig({ [ENV.jwtSecret]: TEST_SECRET, [ENV.jwtTyp]: 'at+jwt' }),
  );
  const withTyp = (typ?: string) =>
    new SignJWT({ sub: 'alice' })
      .setProtectedHeader(typ === undefined ? { alg: 'HS256' } : { alg: 'HS256', typ })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(secretBytes(TEST_SECRET));

  it('refuses a token of another type, or of none', async () => {
    expect(await refusal(verifier, await withTyp('JWT'))).toBe('wrong token type');
    expect(await refusal(verifier, await withTyp())).toBe('wrong token type');
  });

  it('accepts the configured one (application/ prefix and case as RFC 8725 allows)', async () => {
    await expect(verifier.verify(await withTyp('at+jwt'))).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(verifier.verify(await withTyp('application/AT+JWT'))).resolves.toMatchObject({
      userId: 'alice',
    });
  });
});

describe('the maximum token lifetime', () => {
  const verifier = verifierFromConfig(parseAuthConfig({ [ENV.jwtSecret]: TEST_SECRET }));

  it('refuses a token valid for longer than 24 h by default', async () => {
    const week = await signHs256({ sub: 'alice' }, { expiresIn: 7 * 24 * 3600 });
    expect(await refusal(verifier, week)).toBe('token lifetime too long');
    const day = await signHs256({ sub: 'alice' }, { expiresIn: DEFAULT_MAX_LIFETIME_SECONDS });
    await expect(verifier.verify(day)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('counts from now when the token has no iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    const noIat = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now + 2 * DEFAULT_MAX_LIFETIME_SECONDS)
      .sign(secretBytes(TEST_SECRET));
    expect(await refusal(verifier, noIat)).toBe('token lifetime too long');
  });

  it('is configurable with HERALD_JWT_MAX_LIFETIME_SECONDS', async () => {
    const short = verifierFromConfig(
      parseAuthConfig({ [ENV.jwtSecret]: TEST_SECRET, [ENV.jwtMaxLifetimeSeconds]: '600' }),
    );
    const hour = await signHs256({ sub: 'alice' }, { expiresIn: 3600 });
    expect(await refusal(short, hour)).toBe('token lifetime too long');
  });
});

describe('an unverified email claim', () => {
  it('is ignored when email_verified is false, kept when true or absent', () => {
    const email = 'victim@example.com';
    expect(identityFromClaims({ sub: 'm', email, email_verified: false }).email).toBeUndefined();
    expect(identityFromClaims({ sub: 'm', email, email_verified: true }).email).toBe(email);
    expect(identityFromClaims({ sub: 'm', email }).email).toBe(email);
  });
});
