import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { exportSPKI, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, MAX_TOKEN_LENGTH, verifierFromConfig } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { UnauthorizedError } from '#core/errors';
import type { TokenVerifier } from '#core/ports';
import {
  type JwksServer,
  OTHER_SECRET,
  type SigningKey,
  secretBytes,
  sign,
  signHs256,
  signingKey,
  signWith,
  startJwksServer,
  TEST_SECRET,
  unsecuredToken,
} from '#test/support/tokens';

/** The refusal's reason; fails the test if the token was accepted or the error is another kind. */
async function reasonFor(verifier: TokenVerifier, token: string): Promise<string> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  const { message, code } = error as UnauthorizedError;
  expect(code).toBe('unauthorized');
  if (token.length > 20)
    expect(JSON.stringify({ message, error: String(error) })).not.toContain(token);
  return message;
}

beforeEach(() => {
  // Quiet, and observable: no test output, and assertions on what is logged.
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('HS256 with a secret', () => {
  const verifier = new JwtVerifier({ key: { kind: 'secret', secret: secretBytes(TEST_SECRET) } });

  it('accepts a valid token and maps its claims', async () => {
    const token = await signHs256({
      sub: 'alice',
      tenant: 'acme',
      topics: ['project.*'],
      email: 'alice@example.com',
    });
    await expect(verifier.verify(token)).resolves.toEqual({
      userId: 'alice',
      tenant: 'acme',
      topicPatterns: ['project.*'],
      email: 'alice@example.com',
      tokenExpiresAt: expect.any(Number),
    });
  });

  it('tolerates a few seconds of clock skew', async () => {
    const token = await signHs256({ sub: 'alice' }, { expiresIn: -2 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
  });

  it.each([
    ['expired', { sub: 'a' }, { expiresIn: -60 }, 'token expired'],
    ['not yet valid (nbf ahead)', { sub: 'a' }, { notBefore: 60 }, 'token not yet valid'],
    ['without exp', { sub: 'a' }, { expiresIn: null }, 'token has no valid expiry'],
    ['with no user claim', { name: 'Alice' }, {}, 'token names no user'],
    ['with a bad tenant', { sub: 'a', tenant: 'a c m e' }, {}, 'invalid tenant claim'],
    ['with malformed topics', { sub: 'a', topics: ['org.>.x'] }, {}, 'invalid topics claim'],
    ['with topics of the wrong type', { sub: 'a', topics: 42 }, {}, 'invalid topics claim'],
  ])('refuses a token %s', async (_, claims, options, reason) => {
    expect(await reasonFor(verifier, await signHs256(claims, options))).toBe(reason);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signHs256({ sub: 'alice' }, {}, OTHER_SECRET);
    expect(await reasonFor(verifier, token)).toBe('bad signature');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await signHs256({ sub: 'alice' })).split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    expect(await reasonFor(verifier, `${header}.${forged}.${signature}`)).toBe('bad signature');
  });

  it('refuses alg none', async () => {
    expect(await reasonFor(verifier, unsecuredToken({ sub: 'alice' }))).toBe(
      'algorithm not allowed',
    );
  });

  it('refuses an RS256 token', async () => {
    const key = await signingKey('RS256', 'k');
    expect(await reasonFor(verifier, await signWith(key, { sub: 'alice' }))).toBe(
      'algorithm not allowed',
    );
  });

  it.each([
    ['empty', '', 'token missing'],
    ['one word', 'abc', 'malformed token'],
    ['three dots of nothing', 'a.b.c', 'malformed token'],
    ['two segments', 'eyJhbGciOiJIUzI1NiJ9.e30', 'malformed token'],
  ])('refuses garbage: %s', async (_, token, reason) => {
    expect(await reasonFor(verifier, token)).toBe(reason);
  });

  it('refuses an oversized token before parsing it, even when validly signed', async () => {
    const token = await signHs256({ sub: 'alice', padding: 'x'.repeat(MAX_TOKEN_LENGTH) });
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expect(await reasonFor(verifier, token)).toBe('token too long');
  });

  it('accepts a token just under the size limit', async () => {
    const base = await signHs256({ sub: 'alice', padding: '' });
    // base64url grows 4 characters per 3 bytes of claims.
    const padding = 'x'.repeat(Math.floor(((MAX_TOKEN_LENGTH - base.length) * 3) / 4) - 3);
    const token = await signHs256({ sub: 'alice', padding });
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('refuses to be built with a short secret', () => {
    expect(
      () => new JwtVerifier({ key: { kind: 'secret', secret: secretBytes('short') } }),
    ).toThrow(/32 bytes/);
  });
});

describe('issuer and audience checks', () => {
  const verifier = new JwtVerifier({
    key: { kind: 'secret', secret: secretBytes(TEST_SECRET) },
    issuer: 'https://issuer.example',
    audience: ['herald', 'herald-staging'],
  });
  const issuer = 'https://issuer.example';

  it('accepts the right issuer and any configured audience', async () => {
    for (const audience of ['herald', 'herald-staging']) {
      const token = await signHs256({ sub: 'alice' }, { issuer, audience });
      await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
    }
  });

  it.each([
    ['a wrong issuer', { issuer: 'https://evil.example', audience: 'herald' }, 'wrong issuer'],
    ['no issuer', { audience: 'herald' }, 'wrong issuer'],
    ['a wrong audience', { issuer, audience: 'other-app' }, 'wrong audience'],
    ['no audience', { issuer }, 'wrong audience'],
  ])('refuses %s', async (_, options, reason) => {
    expect(await reasonFor(verifier, await signHs256({ sub: 'alice' }, options))).toBe(reason);
  });
});

describe('HS256 with a secret from Secrets Manager', () => {
  const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:herald-jwt';

  it('fetches the secret lazily, once, and reuses it', async () => {
    const loadSecret = vi.fn(async () => TEST_SECRET);
    const verifier = new JwtVerifier({ key: { kind: 'secret-arn', arn, loadSecret } });
    expect(loadSecret).not.toHaveBeenCalled();
    for (const user of ['alice', 'bob', 'carol']) {
      await expect(verifier.verify(await signHs256({ sub: user }))).resolves.toMatchObject({
        userId: user,
      });
    }
    expect(loadSecret).toHaveBeenCalledTimes(1);
    expect(loadSecret).toHaveBeenCalledWith(arn);
  });

  it('refuses while the secret cannot be fetched, logs it, and retries on the next call', async () => {
    const loadSecret = vi
      .fn<(arn: string) => Promise<unknown>>()
      .mockRejectedValueOnce(new Error('AccessDeniedException'))
      .mockResolvedValue(TEST_SECRET);
    const verifier = new JwtVerifier({ key: { kind: 'secret-arn', arn, loadSecret } });
    const token = await signHs256({ sub: 'alice' });
    expect(await reasonFor(verifier, token)).toBe('verification key unavailable');
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain(token);
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
    expect(loadSecret).toHaveBeenCalledTimes(2);
  });

  it('refuses every token when the stored secret is too short', async () => {
    const verifier = new JwtVerifier({
      key: { kind: 'secret-arn', arn, loadSecret: async () => 'short' },
    });
    expect(await reasonFor(verifier, await signHs256({ sub: 'alice' }))).toBe(
      'verification key unavailable',
    );
  });

  describe('through Powertools getSecret', () => {
    const secretsManager = mockClient(SecretsManagerClient);
    const region = process.env.AWS_REGION;
    beforeAll(() => {
      process.env.AWS_REGION = 'us-east-1';
    });
    afterAll(() => {
      secretsManager.restore();
      if (region === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = region;
    });

    it('reads SecretString of the configured ARN', async () => {
      const defaultArn = `${arn}-powertools`;
      secretsManager
        .on(GetSecretValueCommand, { SecretId: defaultArn })
        .resolves({ SecretString: TEST_SECRET });
      const verifier = new JwtVerifier({ key: { kind: 'secret-arn', arn: defaultArn } });
      await expect(verifier.verify(await signHs256({ sub: 'alice' }))).resolves.toMatchObject({
        userId: 'alice',
      });
      await verifier.verify(await signHs256({ sub: 'bob' }));
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });
  });
});

describe('RS256 and ES256 against a JWKS', () => {
  let server: JwksServer;
  let rsa1: SigningKey;
  let rsa2: SigningKey;
  let ec1: SigningKey;
  let verifier: JwtVerifier;

  beforeAll(async () => {
    [rsa1, rsa2, ec1] = await Promise.all([
      signingKey('RS256', 'rsa-1'),
      signingKey('RS256', 'rsa-2'),
      signingKey('ES256', 'ec-1'),
    ]);
    server = await startJwksServer([rsa1.publicJwk, rsa2.publicJwk, ec1.publicJwk]);
    verifier = new JwtVerifier({
      key: { kind: 'jwks', url: server.url },
      issuer: 'https://issuer.example',
      audience: 'herald',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const claims = { iss: 'https://issuer.example', aud: 'herald' };

  it('accepts an RS256 token', async () => {
    const token = await signWith(rsa1, { ...claims, sub: 'alice', tenant: 'acme' });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      userId: 'alice',
      tenant: 'acme',
    });
  });

  it('accepts an ES256 token', async () => {
    const token = await signWith(ec1, { ...claims, user_id: 'bob' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'bob' });
  });

  it('selects the key by kid', async () => {
    const token = await signWith(rsa2, { ...claims, sub: 'carol' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'carol' });
  });

  it('refuses a token signed by one key but naming another kid', async () => {
    const token = await signWith(rsa1, { ...claims, sub: 'alice' }, { kid: 'rsa-2' });
    expect(await reasonFor(verifier, token)).toBe('bad signature');
  });

  it('refuses a token signed by a key outside the set, even naming a known kid', async () => {
    const stranger = await signingKey('RS256', 'rsa-1');
    expect(await reasonFor(verifier, await signWith(stranger, { ...claims, sub: 'a' }))).toBe(
      'bad signature',
    );
  });

  it('refuses a kid the set does not have', async () => {
    const token = await signWith(rsa1, { ...claims, sub: 'alice' }, { kid: 'rsa-9' });
    expect(await reasonFor(verifier, token)).toBe('unknown signing key');
  });

  it('refuses HS256 signed with the public key as the secret (alg confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const token = await sign({ ...claims, sub: 'admin' }, secretBytes(pem), {
      alg: 'HS256',
      kid: 'rsa-1',
    });
    expect(await reasonFor(verifier, token)).toBe('algorithm not allowed');
  });

  it('refuses a plain HS256 token', async () => {
    expect(await reasonFor(verifier, await signHs256({ ...claims, sub: 'alice' }))).toBe(
      'algorithm not allowed',
    );
  });

  it('refuses alg none', async () => {
    expect(await reasonFor(verifier, unsecuredToken({ ...claims, sub: 'alice' }))).toBe(
      'algorithm not allowed',
    );
  });

  it.each([
    ['expired', { ...claims, sub: 'a' }, { expiresIn: -60 }, 'token expired'],
    ['not yet valid', { ...claims, sub: 'a' }, { notBefore: 60 }, 'token not yet valid'],
    [
      'from a wrong issuer',
      { aud: 'herald', iss: 'https://evil.example', sub: 'a' },
      {},
      'wrong issuer',
    ],
    ['for a wrong audience', { iss: claims.iss, aud: 'other', sub: 'a' }, {}, 'wrong audience'],
    ['with no user claim', claims, {}, 'token names no user'],
    ['with a bad tenant', { ...claims, sub: 'a', tenant: '../x' }, {}, 'invalid tenant claim'],
  ])('refuses a token %s', async (_, tokenClaims, options, reason) => {
    expect(await reasonFor(verifier, await signWith(rsa1, tokenClaims, options))).toBe(reason);
  });

  it('fetches the key set once and serves later tokens from its cache', async () => {
    const fresh = new JwtVerifier({ key: { kind: 'jwks', url: server.url } });
    const before = server.fetches();
    for (const key of [rsa1, rsa2, ec1, rsa1]) {
      await fresh.verify(await signWith(key, { sub: 'alice' }));
    }
    expect(server.fetches() - before).toBe(1);
  });

  it('refuses, and logs, when the key set cannot be fetched', async () => {
    const broken = new JwtVerifier({ key: { kind: 'jwks', url: new URL('/missing', server.url) } });
    const token = await signWith(rsa1, { sub: 'alice' });
    expect(await reasonFor(broken, token)).toBe('verification key unavailable');
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain(token);
  });
});

describe('verifierFromConfig', () => {
  it('fails closed without configuration, logging the error once', async () => {
    const verifier = verifierFromConfig({ mode: 'none' });
    const token = await signHs256({ sub: 'alice' });
    expect(await reasonFor(verifier, token)).toBe('token verification not configured');
    expect(await reasonFor(verifier, token)).toBe('token verification not configured');
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('builds an HS256 verifier with issuer and audience from a secret', async () => {
    const verifier = verifierFromConfig({
      mode: 'secret',
      secret: { kind: 'value', bytes: secretBytes(TEST_SECRET) },
      issuer: 'herald-dev',
      audience: ['herald'],
      maxLifetimeSeconds: 3600,
    });
    const good = await signHs256({ sub: 'a' }, { issuer: 'herald-dev', audience: 'herald' });
    await expect(verifier.verify(good)).resolves.toMatchObject({ userId: 'a' });
    expect(await reasonFor(verifier, await signHs256({ sub: 'a' }, { audience: 'herald' }))).toBe(
      'wrong issuer',
    );
  });

  it('warns when JWKS verification has no audience to check', () => {
    verifierFromConfig({
      mode: 'jwks',
      jwksUrl: new URL('https://issuer.example/jwks.json'),
      maxLifetimeSeconds: 3600,
    });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    verifierFromConfig({
      mode: 'jwks',
      jwksUrl: new URL('https://issuer.example/jwks.json'),
      audience: ['herald'],
      maxLifetimeSeconds: 3600,
    });
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});
