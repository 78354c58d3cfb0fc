import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SECRET_REFRESH_SECONDS,
  LOCAL_STAGE,
  DEFAULT_MAX_LIFETIME_SECONDS as MAX_LIFETIME,
  parseAuthConfig,
} from '#config/auth-config';
import { ConfigError } from '#config/config';
import { ENV } from '#config/env-names';

const SECRET = 'a-config-test-secret-of-at-least-32-bytes';
const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:herald-jwt';

describe('parseAuthConfig', () => {
  it('is none (fail closed) when nothing is set, or only blanks', () => {
    expect(parseAuthConfig({})).toEqual({ mode: 'none' });
    expect(parseAuthConfig({ [ENV.jwtSecret]: '  ', [ENV.jwksUrl]: '' })).toEqual({
      mode: 'none',
    });
  });

  it('uses a secret given as a value', () => {
    const config = parseAuthConfig({ [ENV.jwtSecret]: SECRET });
    expect(config).toEqual({
      mode: 'secret',
      secret: { kind: 'value', bytes: new TextEncoder().encode(SECRET) },
      maxLifetimeSeconds: MAX_LIFETIME,
    });
  });

  it('uses a secret given by ARN', () => {
    expect(parseAuthConfig({ [ENV.jwtSecretArn]: ARN })).toEqual({
      mode: 'secret',
      secret: {
        kind: 'arn',
        arn: ARN,
        refreshSeconds: DEFAULT_SECRET_REFRESH_SECONDS,
        refuseDevSecret: true,
      },
      maxLifetimeSeconds: MAX_LIFETIME,
    });
  });

  it('prefers a JWKS URL over any secret', () => {
    const config = parseAuthConfig({
      [ENV.jwksUrl]: 'https://issuer.example/.well-known/jwks.json',
      [ENV.jwtAudience]: 'herald',
      [ENV.jwtSecret]: SECRET,
    });
    expect(config.mode).toBe('jwks');
  });

  it('reads the issuer and a comma-separated audience list', () => {
    const config = parseAuthConfig({
      [ENV.jwksUrl]: 'https://issuer.example/jwks.json',
      [ENV.jwtIssuer]: 'https://issuer.example/',
      [ENV.jwtAudience]: 'herald, herald-staging,',
    });
    expect(config).toEqual({
      mode: 'jwks',
      jwksUrl: new URL('https://issuer.example/jwks.json'),
      issuer: 'https://issuer.example/',
      audience: ['herald', 'herald-staging'],
      maxLifetimeSeconds: MAX_LIFETIME,
    });
  });

  it.each([
    'http://localhost:4000/jwks.json',
    'http://127.0.0.1:4000/jwks.json',
    'http://[::1]:4000/jwks.json',
  ])('allows plain http only for loopback: %s', (url) => {
    expect(parseAuthConfig({ [ENV.jwksUrl]: url, [ENV.stage]: LOCAL_STAGE }).mode).toBe('jwks');
  });

  it.each([
    ['plain http to another host', 'http://issuer.example/jwks.json', /https/],
    [
      'http to a host that merely starts with localhost',
      'http://localhost.evil.example/j',
      /https/,
    ],
    ['another scheme', 'file:///etc/jwks.json', /https/],
    ['not a URL', 'issuer.example/jwks.json', /not a URL/],
    ['credentials in the URL', 'https://user:pw@issuer.example/jwks.json', /credentials/],
  ])('refuses a JWKS URL with %s', (_, url, message) => {
    expect(() => parseAuthConfig({ [ENV.jwksUrl]: url })).toThrow(message);
    expect(() => parseAuthConfig({ [ENV.jwksUrl]: url })).toThrow(ConfigError);
  });

  it('says why a JWKS URL is not one: a named ConfigError carrying the parser’s error', () => {
    let thrown: unknown;
    try {
      parseAuthConfig({ [ENV.jwksUrl]: 'issuer.example/jwks.json' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).name).toBe('ConfigError');
    expect((thrown as ConfigError).cause).toBeInstanceOf(TypeError);
  });

  it('refuses an HS256 secret shorter than 32 bytes, counting bytes not characters', () => {
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: 'x'.repeat(31) })).toThrow(ConfigError);
    // 16 two-byte characters are 32 bytes.
    expect(parseAuthConfig({ [ENV.jwtSecret]: 'é'.repeat(16) }).mode).toBe('secret');
  });

  it('refuses both a secret value and a secret ARN', () => {
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: SECRET, [ENV.jwtSecretArn]: ARN })).toThrow(
      /only one/,
    );
    expect(() => parseAuthConfig({ [ENV.jwtSecret]: SECRET, [ENV.jwtSecretArn]: ARN })).toThrow(
      ConfigError,
    );
  });
});
