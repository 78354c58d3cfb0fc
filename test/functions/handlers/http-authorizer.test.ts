import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { ENV } from '#config/env-names';
import type { TokenVerifier } from '#core/ports';
import { makeHandler, handler as wiredHandler } from '#handlers/http-authorizer';
import { secretBytes, signHs256, TEST_SECRET, unsecuredToken } from '#test/support/tokens';

/** An HTTP API authorizer event (payload 2.0) as API Gateway documents it. */
function authorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/notifications',
    identitySource: Object.values(headers),
    routeKey: 'GET /notifications',
    rawPath: '/notifications',
    rawQueryString: '',
    cookies: [],
    headers,
    requestContext: {} as APIGatewayRequestAuthorizerEventV2['requestContext'],
  };
}

const verifier = new JwtVerifier({ key: { kind: 'secret', secret: secretBytes(TEST_SECRET) } });
const handle = makeHandler({ verifier });

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('http-authorizer', () => {
  it('allows a valid bearer token, handing the caller on as the authorizer context', async () => {
    const token = await signHs256({ sub: 'alice', tenant: 'acme', topics: ['project.*'] });
    expect(await handle(authorizerEvent({ authorization: `Bearer ${token}` }))).toEqual({
      isAuthorized: true,
      // `exp` as the WebSocket authorizer hands it on (context values are strings).
      context: {
        tenant: 'acme',
        userId: 'alice',
        topics: '["project.*"]',
        exp: expect.stringMatching(/^\d+$/),
      },
    });
  });

  it('denies a flood of junk tokens, each with a plain verdict (cacheable), never a throw', async () => {
    const junk = [
      'Bearer a.b.c',
      'Bearer not-a-jwt',
      `Bearer ${unsecuredToken({ sub: 'mallory' })}`,
      `Bearer ${await signHs256({ sub: 'mallory' }, {}, 'some-other-secret-that-is-32-bytes-long')}`,
      `Bearer ${await signHs256({ sub: 'mallory' }, { expiresIn: -60 })}`,
      'Basic bWFsbG9yeTpwdw==',
      'Bearer',
    ];
    const flood = Array.from({ length: 200 }, (_, at) => junk[at % junk.length] as string);
    const verdicts = await Promise.all(
      flood.map((authorization) => handle(authorizerEvent({ authorization }))),
    );
    expect(verdicts.every((verdict) => verdict.isAuthorized === false)).toBe(true);
    expect(verdicts[0]).toEqual({ isAuthorized: false });
    // Refusals are logged with a reason, never the token.
    const logged = JSON.stringify(vi.mocked(logger.info).mock.calls);
    expect(logged).not.toContain('bWFsbG9yeTpwdw');
  });

  it('denies (and logs the fault by name) when the verifier fails unexpectedly', async () => {
    const broken: TokenVerifier = {
      verify: async () => {
        throw new TypeError('boom');
      },
    };
    const verdict = await makeHandler({ verifier: broken })(
      authorizerEvent({ authorization: 'Bearer a.b.c' }),
    );
    expect(verdict).toEqual({ isAuthorized: false });
    expect(logger.error).toHaveBeenCalledWith(expect.any(String), { errorName: 'TypeError' });
  });

  it('wires the verifier from the environment on its first call', async () => {
    vi.stubEnv(ENV.stage, 'local');
    vi.stubEnv(ENV.jwtSecret, TEST_SECRET);
    const token = await signHs256({ sub: 'bob' });
    await expect(
      wiredHandler(authorizerEvent({ authorization: `Bearer ${token}` })),
    ).resolves.toMatchObject({ isAuthorized: true, context: { userId: 'bob' } });
  });
});
