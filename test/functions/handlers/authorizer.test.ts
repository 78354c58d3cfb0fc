import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, MAX_TOKEN_LENGTH } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { MIN_SECRET_BYTES } from '#config/auth-config';
import { ConfigError } from '#config/config';
import { ENV } from '#config/env-names';
import { UnauthorizedError } from '#core/errors';
import type { Identity } from '#core/model';
import type { TokenVerifier } from '#core/ports';
import { type AuthorizerDeps, makeHandler, handler as wiredHandler } from '#handlers/authorizer';
import { lambdaContext } from '#local/lambda-context';
import { OTHER_SECRET, secretBytes, signHs256, unsecuredToken } from '#test/support/tokens';

const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect';
const ISSUER = 'https://issuer.example';
const AUDIENCE = 'herald';

/** A `$connect` authorizer event shaped as API Gateway documents it for WebSocket APIs. */
function connectEvent(query: Record<string, string> | null): APIGatewayRequestAuthorizerEvent {
  const multi = query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]));
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: { Host: 'abcdef123.execute-api.us-east-1.amazonaws.com', Upgrade: 'websocket' },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: multi,
    stageVariables: {},
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'prod',
      connectionId: 'conn-1=',
      connectedAt: 1_700_000_000_000,
      requestTimeEpoch: 1_700_000_000_001,
      requestId: 'req-1',
      domainName: 'abcdef123.execute-api.us-east-1.amazonaws.com',
      apiId: 'abcdef123',
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

const SECRET = 'authorizer-test-secret-long-enough-for-hs256';
const verifier = new JwtVerifier({
  key: { kind: 'secret', secret: secretBytes(SECRET) },
  issuer: ISSUER,
  audience: AUDIENCE,
});
const handler = makeHandler({ verifier });
const good = { issuer: ISSUER, audience: AUDIENCE };
const tokenFor = (claims: Record<string, unknown>, options = {}, secret = SECRET) =>
  signHs256(claims, { ...good, ...options }, secret);

/** What the handler threw, asserting it is exactly the Error API Gateway turns into a 401. */
async function refusal(run: Promise<unknown>): Promise<void> {
  const error = await run.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(UnauthorizedError);
  expect((error as Error).message).toBe('Unauthorized');
}

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('authorizer: a good token', () => {
  it('allows execute-api:Invoke on the method ARN and carries the identity as context', async () => {
    const token = await tokenFor({
      sub: 'alice',
      tenant: 'acme',
      topics: 'project.* org.acme.>',
      email: 'alice@example.com',
    });
    const result = await handler(connectEvent({ token }), lambdaContext('authorizer'));
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: {
        tenant: 'acme',
        userId: 'alice',
        topics: '["project.*","org.acme.>"]',
        email: 'alice@example.com',
        exp: expect.stringMatching(/^\d+$/),
      },
    });
    for (const value of Object.values(result.context ?? {})) expect(typeof value).toBe('string');
  });

  it('works without a Lambda context (as in-process callers may invoke it)', async () => {
    const token = await tokenFor({ user_id: 'bob' });
    await expect(handler(connectEvent({ token }))).resolves.toMatchObject({
      principalId: 'bob',
      context: { tenant: 'default', userId: 'bob', topics: '[]' },
    });
  });
});

describe('authorizer: refusals throw exactly Unauthorized', () => {
  it.each([
    ['no query string at all', null],
    ['no token parameter', { other: 'x' }],
    ['an empty token', { token: '' }],
  ])('with %s, without calling the verifier', async (_, query) => {
    const verify = vi.fn<TokenVerifier['verify']>();
    await refusal(makeHandler({ verifier: { verify } })(connectEvent(query)));
    expect(verify).not.toHaveBeenCalled();
    expect(logger.info).toHaveBeenCalledWith('connect refused', {
      reason: 'token missing or repeated',
    });
  });

  it("with a service credential: it acts on users, it is nobody's socket", async () => {
    const token = await tokenFor({ sub: 'billing', 'herald:role': 'service' });
    await refusal(handler(connectEvent({ token })));
  });

  it('with the token sent twice, without calling the verifier', async () => {
    const token = await tokenFor({ sub: 'alice' });
    const event = connectEvent({ token });
    event.multiValueQueryStringParameters = { token: [await tokenFor({ sub: 'mallory' }), token] };
    const verify = vi.fn<TokenVerifier['verify']>();
    await refusal(makeHandler({ verifier: { verify } })(event));
    expect(verify).not.toHaveBeenCalled();
  });

  const cases: Array<[string, () => Promise<string> | string, string]> = [
    ['expired', () => tokenFor({ sub: 'a' }, { expiresIn: -60 }), 'token expired'],
    ['not yet valid', () => tokenFor({ sub: 'a' }, { notBefore: 60 }), 'token not yet valid'],
    ['badly signed', () => tokenFor({ sub: 'a' }, {}, OTHER_SECRET), 'bad signature'],
    [
      'alg none',
      () => unsecuredToken({ sub: 'a', iss: ISSUER, aud: AUDIENCE }),
      'algorithm not allowed',
    ],
    ['from a wrong issuer', () => tokenFor({ sub: 'a' }, { issuer: 'https://x' }), 'wrong issuer'],
    ['for a wrong audience', () => tokenFor({ sub: 'a' }, { audience: 'x' }), 'wrong audience'],
    ['naming no user', () => tokenFor({ name: 'a' }), 'token names no user'],
    ['garbage', () => 'abc', 'malformed token'],
    ['a.b.c', () => 'a.b.c', 'malformed token'],
    ['oversized', () => 'x'.repeat(MAX_TOKEN_LENGTH + 1), 'token too long'],
    ['with a bad tenant', () => tokenFor({ sub: 'a', tenant: 'a/b' }), 'invalid tenant claim'],
    [
      'with malformed topics',
      () => tokenFor({ sub: 'a', topics: ['a.>.b'] }),
      'invalid topics claim',
    ],
  ];

  it.each(cases)(
    'for a token %s, logging the reason but never the token',
    async (_, make, reason) => {
      const token = await make();
      await refusal(handler(connectEvent({ token }), lambdaContext('authorizer')));
      expect(logger.info).toHaveBeenCalledWith('connect refused', { reason });
      const logged = JSON.stringify(vi.mocked(logger.info).mock.calls);
      if (token.length > 3) expect(logged).not.toContain(token);
    },
  );

  it('when the verifier fails unexpectedly, logging only the error name', async () => {
    const token = await tokenFor({ sub: 'alice' });
    const failing: TokenVerifier = {
      verify: async (seen) => {
        throw new TypeError(`cannot read ${seen}`);
      },
    };
    await refusal(makeHandler({ verifier: failing })(connectEvent({ token })));
    expect(logger.error).toHaveBeenCalledWith('connect refused by an unexpected error', {
      errorName: 'TypeError',
    });
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain(token);
  });
});

describe('authorizer: does nothing but verify', () => {
  it('uses only its verifier, once, with the query-string token', async () => {
    const seen: string[] = [];
    const alice: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };
    const recording: TokenVerifier = {
      verify: async (token) => {
        seen.push(token);
        return alice;
      },
    };
    const touched: PropertyKey[] = [];
    // Records every dependency the handler reaches for: there is nothing but the verifier.
    const deps = new Proxy<AuthorizerDeps>(
      { verifier: recording },
      {
        get: (target, property, receiver) => {
          touched.push(property);
          return Reflect.get(target, property, receiver);
        },
      },
    );
    const result = await makeHandler(deps)(connectEvent({ token: 'opaque-token' }));
    expect(seen).toEqual(['opaque-token']);
    expect(new Set(touched)).toEqual(new Set(['verifier']));
    expect(result.principalId).toBe('alice');
  });
});

describe('authorizer: wiring', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads its config on the first call, not at import, and fails that call with the ConfigError', async () => {
    // The module is already imported above, without any of these variables set.
    vi.stubEnv(ENV.jwtSecret, 'x'.repeat(MIN_SECRET_BYTES - 1));
    const failure = await wiredHandler(connectEvent({ token: 'a.b.c' })).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A broken stage, not a refused token: API Gateway answers 500, and the log says why.
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure).toMatchObject({
      name: 'ConfigError',
      message: `${ENV.jwtSecret} must be at least ${MIN_SECRET_BYTES} bytes`,
    });

    vi.stubEnv(ENV.jwtSecret, SECRET);
    await refusal(wiredHandler(connectEvent({ token: 'a.b.c' })));
  });
});
