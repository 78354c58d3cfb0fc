import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, MAX_TOKEN_LENGTH } from '../../../functions/adapters/jwt-verifier';
import { logger } from '../../../functions/adapters/powertools';
import type { TokenVerifier } from '../../../functions/core/ports';
import { makeHandler } from '../../../functions/handlers/http-authorizer';
import { lambdaContext } from '../../../local/lambda-context';
import { OTHER_SECRET, secretBytes, signHs256, unsecuredToken } from '../../support/tokens';

const SECRET = 'http-authorizer-test-secret-long-enough-for-hs256';
const verifier = new JwtVerifier({ key: { kind: 'secret', secret: secretBytes(SECRET) } });
const handler = makeHandler({ verifier });
const tokenFor = (claims: Record<string, unknown>, options = {}, secret = SECRET) =>
  signHs256(claims, options, secret);

/**
 * A REQUEST authorizer event for an HTTP API (payload 2.0) as AWS documents it: header names
 * lower-cased, the identity source's values in `identitySource`.
 */
function authorizerEvent(authorization?: string): APIGatewayRequestAuthorizerEventV2 {
  const headers: Record<string, string> = {
    host: 'abcdef123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'curl/8.5.0',
  };
  if (authorization !== undefined) headers.authorization = authorization;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/notifications',
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: 'GET /notifications',
    rawPath: '/notifications',
    rawQueryString: '',
    cookies: [],
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef123',
      domainName: 'abcdef123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abcdef123',
      http: {
        method: 'GET',
        path: '/notifications',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: 'GET /notifications',
      stage: '$default',
      time: '23/Nov/2026:12:00:00 +0000',
      timeEpoch: 1_795_435_200_000,
    },
  };
}

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('http authorizer: a good bearer token', () => {
  it('authorizes and hands the identity on as a flat context', async () => {
    const token = await tokenFor({
      sub: 'alice',
      tenant: 'acme',
      topics: ['project.*'],
      email: 'alice@example.com',
    });

    const result = await handler(authorizerEvent(`Bearer ${token}`), lambdaContext('http-auth'));

    expect(result).toEqual({
      isAuthorized: true,
      context: {
        tenant: 'acme',
        userId: 'alice',
        topics: '["project.*"]',
        email: 'alice@example.com',
      },
    });
  });

  it('takes the scheme in any case, and the identity source when headers are absent', async () => {
    const token = await tokenFor({ user_id: 'bob' });
    const lower = await handler(authorizerEvent(`bearer ${token}`));
    const event = authorizerEvent(`BEARER ${token}`);
    delete event.headers;
    const fromSource = await handler(event);

    for (const result of [lower, fromSource]) {
      expect(result).toEqual({
        isAuthorized: true,
        context: { tenant: 'default', userId: 'bob', topics: '[]' },
      });
    }
  });
});

describe('http authorizer: refusals', () => {
  it.each([
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['the scheme alone', 'Bearer'],
    ['two tokens (a repeated header, comma-joined)', 'Bearer a.b.c,Bearer d.e.f'],
  ])('refuse %s without calling the verifier', async (_, header) => {
    const verify = vi.fn<TokenVerifier['verify']>();

    const result = await makeHandler({ verifier: { verify } })(authorizerEvent(header));

    expect(result).toEqual({ isAuthorized: false });
    expect(verify).not.toHaveBeenCalled();
    expect(logger.info).toHaveBeenCalledWith('request refused', { reason: 'no bearer token' });
  });

  it.each([
    ['expired', () => tokenFor({ sub: 'alice' }, { expiresIn: -60 })],
    ['signed with another secret', () => tokenFor({ sub: 'alice' }, {}, OTHER_SECRET)],
    ['unsigned (alg none)', async () => unsecuredToken({ sub: 'alice', exp: 9_999_999_999 })],
    ['without a user', () => tokenFor({ tenant: 'acme' })],
    ['too long', async () => 'a'.repeat(MAX_TOKEN_LENGTH + 1)],
  ])('refuse a token that is %s, and never log it', async (_, make) => {
    const token = await make();

    expect(await handler(authorizerEvent(`Bearer ${token}`))).toEqual({ isAuthorized: false });
    const logged = JSON.stringify(vi.mocked(logger.info).mock.calls);
    expect(logged).toContain('request refused');
    expect(logged).not.toContain(token.slice(0, 40));
  });

  it('refuses when verification breaks unexpectedly, logging only the error’s name', async () => {
    const verify = vi.fn<TokenVerifier['verify']>(async () => {
      throw new TypeError('boom with Bearer secret-token-text');
    });

    const result = await makeHandler({ verifier: { verify } })(authorizerEvent('Bearer abc.def'));

    expect(result).toEqual({ isAuthorized: false });
    expect(logger.error).toHaveBeenCalledWith('request refused by an unexpected error', {
      errorName: 'TypeError',
    });
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain('secret-token');
  });
});
