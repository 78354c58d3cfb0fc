import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, MAX_TOKEN_LENGTH } from '#adapters/jwt-verifier';
import { logger } from '#adapters/powertools';
import { TOPOLOGY } from '#config/topology';
import { BadRequestError, RetryableError } from '#core/errors';
import { createInboxService } from '#core/inbox';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import type { TokenVerifier } from '#core/ports';
import { createPreferencesService } from '#core/preferences';
import {
  type HttpApiDeps,
  type HttpApiEvent,
  type HttpApiResult,
  makeHandler,
} from '#handlers/http-api';
import { lambdaContext } from '#local/lambda-context';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeInbox,
  FakePreferenceStore,
} from '#test/support/fakes';
import { OTHER_SECRET, secretBytes, signHs256, unsecuredToken } from '#test/support/tokens';

const SECRET = 'http-api-test-secret-long-enough-for-hs256';
const verifier = new JwtVerifier({ key: { kind: 'secret', secret: secretBytes(SECRET) } });
const tokenFor = (claims: Record<string, unknown>, options = {}, secret = SECRET) =>
  signHs256(claims, options, secret);
/** Alice of tenant acme, the caller of every request unless a test says otherwise. */
let aliceToken: string;
beforeAll(async () => {
  aliceToken = await tokenFor({ sub: 'alice', tenant: 'acme' });
});
const NOW = Date.parse('2026-11-23T12:00:00.000Z');
let sequence = 0;

function note(): Notification {
  sequence += 1;
  return {
    id: notificationId(NOW + sequence, 'acme', `evt-${sequence}`),
    eventId: `evt-${sequence}`,
    type: 'comment.created',
    title: `note ${sequence}`,
    createdAt: new Date(NOW + sequence).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
}

/**
 * An HTTP API (payload 2.0) integration event as AWS documents it for a route without an
 * authorizer: header names lower-cased, `Authorization: Bearer <Alice's token>` unless told.
 */
function apiEvent(
  routeKey: string,
  options: {
    path?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
    /** The whole header value; `null` sends none. */
    authorization?: string | null;
    /** Replaces every header (for spellings API Gateway would not send). */
    headers?: Record<string, string>;
  } = {},
): HttpApiEvent {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const path =
    options.path ??
    template.replace(/\{(\w+)\}/g, (_, name: string) => options.pathParameters?.[name] ?? '');
  const authorization =
    options.authorization === undefined ? `Bearer ${aliceToken}` : options.authorization;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: 'api.example.com',
  };
  if (authorization !== null) headers.authorization = authorization;
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: options.headers ?? headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'test',
      },
      requestId: 'id',
      routeKey,
      stage: '$default',
      time: '23/Nov/2026:12:00:00 +0000',
      timeEpoch: NOW,
    },
  };
}

function setup(overrides: Partial<HttpApiDeps> = {}) {
  const inbox = new FakeInbox();
  const connections = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  const store = new FakePreferenceStore();
  const handler = makeHandler({
    verifier,
    inbox: createInboxService({ inbox, connections, delivery, clock: new FakeClock(NOW) }),
    preferences: createPreferencesService({ store }),
    ...overrides,
  });
  const call = (event: HttpApiEvent) => handler(event, lambdaContext('http-api'));
  const stored = async (userId = 'alice', tenant = 'acme', count = 1) => {
    const recipient: Recipient = { kind: 'user', tenant, userId };
    const notes = Array.from({ length: count }, note);
    for (const each of notes) await inbox.store(recipient, each);
    return notes;
  };
  return { inbox, connections, delivery, store, call, stored };
}

function bodyOf(result: HttpApiResult): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null');
}

async function expectError(run: Promise<HttpApiResult>, status: number, code: string) {
  const result = await run;
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['content-type']).toBe('application/json');
  expect(bodyOf(result)).toEqual({ error: { code, message: expect.any(String) } });
  return bodyOf(result);
}

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /notifications', () => {
  it('pages the caller’s notifications newest first, 20 by default', async () => {
    const { call, stored } = setup();
    const notes = await stored('alice', 'acme', 23);
    await stored('bob');

    const first = await call(apiEvent('GET /notifications'));
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'cache-control': 'no-store' });
    const page = bodyOf(first) as { items: Notification[]; cursor?: string };
    expect(page.items).toHaveLength(20);
    expect(page.items[0]).toEqual(notes[22]);

    const rest = await call(
      apiEvent('GET /notifications', { query: { limit: '5', cursor: page.cursor ?? '' } }),
    );
    expect(bodyOf(rest)).toEqual({ items: [notes[2], notes[1], notes[0]] });
  });

  it('lists only unread ones with unread=true', async () => {
    const { call, stored, inbox } = setup();
    const [a, b] = await stored('alice', 'acme', 2);
    await inbox.markRead('acme', 'alice', [a?.id ?? '']);

    const result = await call(apiEvent('GET /notifications', { query: { unread: 'true' } }));

    expect(bodyOf(result)).toEqual({ items: [b] });
  });

  it.each([
    ['limit 0', { limit: '0' }],
    ['limit 101', { limit: '101' }],
    ['a limit that is not a number', { limit: 'ten' }],
    ['a negative limit', { limit: '-1' }],
    ['a repeated limit (comma-joined)', { limit: '5,6' }],
    ['unread=yes', { unread: 'yes' }],
    ['an empty cursor', { cursor: '' }],
  ])('answers %s with 400', async (_, query) => {
    const { call } = setup();
    await expectError(call(apiEvent('GET /notifications', { query })), 400, 'bad_request');
  });
});

describe('read state routes', () => {
  it('marks read and unread, reads all, deletes, answering the new unread count', async () => {
    const { call, stored } = setup();
    const [a, b, c] = await stored('alice', 'acme', 3);
    const id = (n?: Notification) => ({ pathParameters: { id: n?.id ?? '' } });

    const answers = [
      await call(apiEvent('POST /notifications/{id}/read', id(a))),
      await call(apiEvent('POST /notifications/{id}/unread', id(a))),
      await call(apiEvent('DELETE /notifications/{id}', id(b))),
      await call(apiEvent('GET /notifications/unread-count')),
      await call(apiEvent('POST /notifications/read-all')),
      await call(apiEvent('DELETE /notifications/{id}', id(c))),
      await call(apiEvent('GET /notifications/unread-count')),
    ];

    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(answers.map(bodyOf)).toEqual([
      { unread: 2, unseen: 3 },
      { unread: 3, unseen: 3 },
      { unread: 2, unseen: 2 },
      { unread: 2, unseen: 2 },
      { unread: 0, unseen: 2 },
      { unread: 0, unseen: 1 },
      { unread: 0, unseen: 1 },
    ]);
  });

  it('answers 404 for another user’s or another tenant’s notification, and changes nothing', async () => {
    const { call, stored, inbox } = setup();
    const [bobs] = await stored('bob');
    const [globex] = await stored('alice', 'globex');

    for (const target of [bobs, globex]) {
      const pathParameters = { id: target?.id ?? '' };
      for (const route of [
        'POST /notifications/{id}/read',
        'POST /notifications/{id}/unread',
        'DELETE /notifications/{id}',
      ]) {
        await expectError(call(apiEvent(route, { pathParameters })), 404, 'not_found');
      }
    }
    expect(await inbox.unreadCount('acme', 'bob')).toBe(1);
    expect(await inbox.unreadCount('globex', 'alice')).toBe(1);
    expect(await inbox.get('acme', 'bob', bobs?.id ?? '')).toMatchObject({ read: false });
  });

  it('answers 400 for something that is not a notification id', async () => {
    const { call } = setup();
    for (const route of ['POST /notifications/{id}/read', 'DELETE /notifications/{id}']) {
      await expectError(
        call(apiEvent(route, { pathParameters: { id: 'not-an-id' } })),
        400,
        'bad_request',
      );
    }
  });
});

describe('preferences routes', () => {
  it('reads and replaces the caller’s own preferences', async () => {
    const { call, store } = setup();
    const preferences = { types: { 'a.muted': { email: 'never' } } };

    const put = await call(apiEvent('PUT /preferences', { body: JSON.stringify(preferences) }));
    const got = await call(apiEvent('GET /preferences'));

    expect(put.statusCode).toBe(200);
    expect(bodyOf(got)).toEqual(bodyOf(put));
    expect(bodyOf(got)).toMatchObject({ preferences });
    expect(store.users.get('acme/alice')).toEqual(preferences);
  });

  it('decodes a base64 body as API Gateway may send it', async () => {
    const { call, store } = setup();
    const body = Buffer.from(JSON.stringify({ channels: { email: 'offline' } })).toString('base64');

    const result = await call(apiEvent('PUT /preferences', { body, isBase64Encoded: true }));

    expect(result.statusCode).toBe(200);
    expect(store.users.get('acme/alice')).toEqual({ channels: { email: 'offline' } });
  });

  it.each([
    ['no body', undefined],
    ['a body that is not JSON', '{channels:'],
    ['an unknown setting', JSON.stringify({ channels: { sms: true } })],
    ['a body far too large', JSON.stringify({ padding: 'x'.repeat(70_000) })],
  ])('answers %s with 400 and stores nothing', async (_, body) => {
    const { call, store } = setup();
    await expectError(call(apiEvent('PUT /preferences', { body })), 400, 'bad_request');
    expect(store.users.size).toBe(0);
  });
});

describe('every route', () => {
  it('serves exactly the routes the topology declares', async () => {
    const { call, inbox } = setup();
    const alice: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };
    const bodies: Record<string, string> = { 'POST /notifications/{id}/interact': '{"action":0}' };
    let path = { pathParameters: { id: '' } };
    for (const routeKey of TOPOLOGY.httpRoutes) {
      // Each route on a notification of its own: a deletion leaves none for the next.
      const mine = { ...note(), actions: [{ label: 'Open', url: 'https://app.example/1' }] };
      await inbox.store(alice, mine);
      path = { pathParameters: { id: mine.id } };
      const result = await call(apiEvent(routeKey, { ...path, body: bodies[routeKey] ?? '{}' }));
      expect({ routeKey, status: result.statusCode }).toEqual({ routeKey, status: 200 });
    }
    const unknown = await expectError(
      call(apiEvent('GET /notifications/{id}', path)),
      404,
      'not_found',
    );
    expect(unknown).toEqual({
      error: { code: 'not_found', message: 'no route GET /notifications/{id}' },
    });
    await expectError(call(apiEvent('$default', { path: '/admin' })), 404, 'not_found');
  });

  it('maps a retryable failure to 503 and anything unknown to a bare 500', async () => {
    const inbox = {
      list: vi.fn(async () => {
        throw new RetryableError('the inbox kept changing; try again');
      }),
      state: vi.fn(async () => {
        throw new Error('secret connection string db://user:pw@host');
      }),
      markRead: vi.fn(),
      markUnread: vi.fn(),
      markAllRead: vi.fn(),
      markAllSeen: vi.fn(),
      change: vi.fn(),
      interact: vi.fn(),
      remove: vi.fn(),
    };
    const { call } = setup({ inbox });

    await expectError(call(apiEvent('GET /notifications')), 503, 'retryable');
    const body = await expectError(
      call(apiEvent('GET /notifications/unread-count')),
      500,
      'internal',
    );
    expect(body).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('passes a bad request from the preferences service through as 400', async () => {
    const { call } = setup({
      preferences: {
        get: vi.fn(),
        put: vi.fn(async () => {
          throw new BadRequestError('types.x.email must be always, never or offline');
        }),
      },
    });

    const body = await expectError(
      call(apiEvent('PUT /preferences', { body: '{}' })),
      400,
      'bad_request',
    );
    expect(body).toEqual({
      error: { code: 'bad_request', message: 'types.x.email must be always, never or offline' },
    });
  });
});

describe('the bearer token', () => {
  it('names the caller: the inbox read is the token’s tenant and user', async () => {
    const { call, stored } = setup();
    const [acmeAlice] = await stored('alice', 'acme');
    const [globexAlice] = await stored('alice', 'globex');
    const globex = await tokenFor({ user_id: 'alice', tenant: 'globex' });

    const mine = await call(apiEvent('GET /notifications'));
    const theirs = await call(
      apiEvent('GET /notifications', { authorization: `Bearer ${globex}` }),
    );

    expect(bodyOf(mine)).toEqual({ items: [acmeAlice] });
    expect(bodyOf(theirs)).toEqual({ items: [globexAlice] });
  });

  it('is read with the scheme in any case and the header name in any case', async () => {
    const { call } = setup();
    const events = [
      apiEvent('GET /notifications/unread-count', { authorization: `bearer ${aliceToken}` }),
      apiEvent('GET /notifications/unread-count', { authorization: `BEARER  ${aliceToken} ` }),
      apiEvent('GET /notifications/unread-count', {
        headers: { Authorization: `Bearer ${aliceToken}` },
      }),
    ];
    for (const event of events) {
      const result = await call(event);
      expect(result.statusCode).toBe(200);
      expect(bodyOf(result)).toEqual({ unread: 0, unseen: 0 });
    }
  });

  it.each([
    ['no Authorization header', null, 'bearer token missing'],
    ['an empty header', '', 'bearer token missing'],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0', 'authorization is not a single bearer token'],
    ['the scheme alone', 'Bearer', 'authorization is not a single bearer token'],
    ['a token without the scheme', 'a.b.c', 'authorization is not a single bearer token'],
    [
      'two tokens in one header',
      'Bearer a.b.c d.e.f',
      'authorization is not a single bearer token',
    ],
    [
      'a repeated header (comma-joined)',
      'Bearer a.b.c,Bearer d.e.f',
      'authorization is not a single bearer token',
    ],
  ])('refuses %s with 401, without verifying or touching the inbox', async (_, header, reason) => {
    const verify = vi.fn<TokenVerifier['verify']>();
    const { call, inbox } = setup({ verifier: { verify } });

    const result = await call(apiEvent('POST /notifications/read-all', { authorization: header }));

    expect(result.statusCode).toBe(401);
    expect(result.headers).toMatchObject({
      'content-type': 'application/json',
      'www-authenticate': 'Bearer',
    });
    expect(bodyOf(result)).toEqual({ error: { code: 'unauthorized', message: reason } });
    expect(verify).not.toHaveBeenCalled();
    expect(inbox.calls).toEqual([]);
    expect(logger.info).toHaveBeenCalledWith('request refused', {
      routeKey: 'POST /notifications/read-all',
      reason,
    });
  });

  it('refuses the header spelled twice in one hand-made event', async () => {
    const { call } = setup();
    const result = await call(
      apiEvent('GET /notifications', {
        headers: { authorization: `Bearer ${aliceToken}`, Authorization: `Bearer ${aliceToken}` },
      }),
    );
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({
      error: { code: 'unauthorized', message: 'authorization header repeated' },
    });
  });

  it.each([
    ['expired', () => tokenFor({ sub: 'alice' }, { expiresIn: -60 }), 'token expired'],
    [
      'signed with another secret',
      () => tokenFor({ sub: 'alice' }, {}, OTHER_SECRET),
      'bad signature',
    ],
    [
      'unsigned (alg none)',
      async () => unsecuredToken({ sub: 'alice', exp: 9_999_999_999 }),
      'algorithm not allowed',
    ],
    ['without a user', () => tokenFor({ tenant: 'acme' }), 'token names no user'],
    ['too long', async () => 'a'.repeat(MAX_TOKEN_LENGTH + 1), 'token too long'],
    ['not a JWT', async () => 'not-a-jwt', 'malformed token'],
  ])(
    'refuses a token that is %s with 401, never echoing or logging it',
    async (_, make, reason) => {
      const { call, inbox } = setup();
      const token = await make();

      const result = await call(
        apiEvent('POST /notifications/read-all', { authorization: `Bearer ${token}` }),
      );

      expect(result.statusCode).toBe(401);
      expect(bodyOf(result)).toEqual({ error: { code: 'unauthorized', message: reason } });
      expect(inbox.calls).toEqual([]);
      const logged = JSON.stringify([
        vi.mocked(logger.info).mock.calls,
        vi.mocked(logger.error).mock.calls,
      ]);
      expect(logged).toContain('request refused');
      for (const text of [logged, result.body ?? '']) {
        expect(text).not.toContain(token.slice(0, 40));
      }
    },
  );

  it('refuses with 401 when verification breaks unexpectedly, logging only the error’s name', async () => {
    const verify = vi.fn<TokenVerifier['verify']>(async () => {
      throw new TypeError('boom with Bearer secret-token-text');
    });
    const { call } = setup({ verifier: { verify } });

    const result = await call(apiEvent('GET /notifications', { authorization: 'Bearer abc.def' }));

    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({
      error: { code: 'unauthorized', message: 'token could not be verified' },
    });
    expect(verify).toHaveBeenCalledWith('abc.def');
    expect(logger.error).toHaveBeenCalledWith('token verification failed unexpectedly', {
      errorName: 'TypeError',
    });
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain('secret-token');
  });
});
