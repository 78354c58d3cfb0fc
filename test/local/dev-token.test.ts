import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from '#adapters/jwt-verifier';
import { ENV } from '#config/env-names';
import { UnauthorizedError } from '#core/errors';
import { DEV_JWT_SECRET, devTokenCli, signDevToken } from '#local/dev-token';

const bytes = (secret: string) => new TextEncoder().encode(secret);

describe('signDevToken', () => {
  it('makes a token the verifier with the same secret accepts', async () => {
    const token = await signDevToken({
      userId: 'alice',
      tenant: 'acme',
      topics: ['project.*', 'org.acme.>'],
      email: 'alice@example.com',
      secret: DEV_JWT_SECRET,
      issuer: 'herald-dev',
      audience: 'herald',
    });
    const verifier = new JwtVerifier({
      key: { kind: 'secret', secret: bytes(DEV_JWT_SECRET) },
      issuer: 'herald-dev',
      audience: 'herald',
    });
    await expect(verifier.verify(token)).resolves.toEqual({
      userId: 'alice',
      tenant: 'acme',
      topicPatterns: ['project.*', 'org.acme.>'],
      tokenExpiresAt: expect.any(Number),
      email: 'alice@example.com',
    });
  });

  it('is refused by a verifier with another secret', async () => {
    const token = await signDevToken({ userId: 'alice', secret: DEV_JWT_SECRET });
    const other = new JwtVerifier({
      key: { kind: 'secret', secret: bytes('some-other-secret-that-is-32-bytes-long') },
    });
    await expect(other.verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('expires after ttlSeconds (one hour by default)', async () => {
    const short = decodeJwt(
      await signDevToken({ userId: 'a', secret: DEV_JWT_SECRET, ttlSeconds: 60 }),
    );
    expect((short.exp ?? 0) - (short.iat ?? 0)).toBe(60);
    const standard = decodeJwt(await signDevToken({ userId: 'a', secret: DEV_JWT_SECRET }));
    expect((standard.exp ?? 0) - (standard.iat ?? 0)).toBe(3600);
  });

  it('refuses claims Herald would refuse, and a bad ttl', async () => {
    await expect(
      signDevToken({ userId: 'a', tenant: 'no spaces', secret: DEV_JWT_SECRET }),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(
      signDevToken({ userId: 'a', topics: ['a.>.b'], secret: DEV_JWT_SECRET }),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(
      signDevToken({ userId: 'a', secret: DEV_JWT_SECRET, ttlSeconds: 0 }),
    ).rejects.toThrow(RangeError);
  });

  it('has a dev secret long enough for HS256 and named as insecure', () => {
    expect(bytes(DEV_JWT_SECRET).byteLength).toBeGreaterThanOrEqual(32);
    expect(DEV_JWT_SECRET).toMatch(/INSECURE/);
  });
});

describe('devTokenCli', () => {
  it('signs with the dev secret by default, from the documented arguments', async () => {
    const token = await devTokenCli(
      [
        'alice',
        '--tenant',
        'acme',
        '--topics',
        'project.*',
        '--email',
        'a@example.com',
        '--ttl',
        '120',
      ],
      {},
    );
    const verifier = new JwtVerifier({ key: { kind: 'secret', secret: bytes(DEV_JWT_SECRET) } });
    await expect(verifier.verify(token)).resolves.toEqual({
      userId: 'alice',
      tenant: 'acme',
      topicPatterns: ['project.*'],
      tokenExpiresAt: expect.any(Number),
      email: 'a@example.com',
    });
  });

  it('takes the secret, issuer and audience from the environment', async () => {
    const secret = 'an-environment-secret-of-32-bytes-or-more';
    const token = await devTokenCli(['bob', '--topics', 'a.* b.>', '--topics', 'c'], {
      [ENV.jwtSecret]: secret,
      [ENV.jwtIssuer]: 'herald-dev',
      [ENV.jwtAudience]: 'herald,other',
    });
    const verifier = new JwtVerifier({
      key: { kind: 'secret', secret: bytes(secret) },
      issuer: 'herald-dev',
      audience: 'herald',
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      userId: 'bob',
      topicPatterns: ['a.*', 'b.>', 'c'],
    });
  });

  it('insists on exactly one user id', async () => {
    await expect(devTokenCli([], {})).rejects.toThrow(/usage/);
    await expect(devTokenCli(['alice', 'bob'], {})).rejects.toThrow(/usage/);
  });
});
