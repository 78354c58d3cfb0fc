/**
 * The inbox end to end on the launched local stack: notifications published to SNS, then
 * read, paged, marked and deleted through the HTTP API (the real handler, verifying the
 * bearer token itself, behind the local HTTP server), with `state` frames arriving on real
 * `ws` sockets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_SECRET, type E2e, eventually, startE2e, type TokenClaims } from '#test/support/e2e';
import { signHs256 } from '#test/support/tokens';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface Listed {
  items: Array<{ id: string; eventId: string; read: boolean; createdAt: string }>;
  cursor?: string;
}

async function call(
  method: string,
  path: string,
  options: {
    token?: string | null;
    /** The whole Authorization header, instead of `Bearer <token>`. */
    authorization?: string;
    userId?: string;
    claims?: TokenClaims;
    body?: unknown;
  } = {},
): Promise<Answer> {
  const token =
    options.token === undefined
      ? await e2e.token(options.userId ?? 'alice', options.claims)
      : options.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${e2e.stack.urls.http}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function list(userId: string, query = '', claims?: TokenClaims): Promise<Listed> {
  const answer = await call('GET', `/notifications${query}`, { userId, claims });
  expect(answer.status).toBe(200);
  return answer.body as unknown as Listed;
}

/** Publishes one at a time, so each gets its own publish time (and so its own place). */
async function publishTo(
  users: string[],
  count: number,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `evt-${randomUUID()}`;
    await e2e.publish({ id, type: 'comment.created', to: { users }, title: `#${i}`, ...extra });
    ids.push(id);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return ids;
}

async function storedFor(userId: string, count: number, claims?: TokenClaims): Promise<Listed> {
  let page: Listed = { items: [] };
  await eventually(async () => {
    page = await list(userId, '?limit=100', claims);
    expect(page.items).toHaveLength(count);
  });
  return page;
}

describe('the inbox over HTTP', () => {
  it('lists what was published, newest first, paging without skips or repeats while more arrive', async () => {
    const user = `reader-${randomUUID().slice(0, 8)}`;
    const published = await publishTo([user], 3);
    const all = await storedFor(user, 3);
    expect(all.items.map((item) => item.eventId)).toEqual([...published].reverse());
    const ids = all.items.map((item) => item.id);
    expect([...ids].sort().reverse()).toEqual(ids);

    const more = await publishTo([user], 2);
    await storedFor(user, 5);
    const before = (await list(user, '?limit=100')).items.map((item) => item.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    const arriving: Array<Promise<unknown>> = [];
    do {
      const query = cursor === undefined ? '?limit=2' : `?limit=2&cursor=${cursor}`;
      const page = await list(user, query);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      // More land while the client pages.
      arriving.push(publishTo([user], 1));
      cursor = page.cursor;
    } while (cursor);
    await Promise.all(arriving);

    expect(seen).toEqual(before);
    expect(new Set(seen).size).toBe(5);
    expect(more).toHaveLength(2);
    await storedFor(user, 5 + arriving.length);
  });

  it('tells every live socket of the user the new count on a mark, and reads all to 0', async () => {
    const user = `badge-${randomUUID().slice(0, 8)}`;
    const phone = await e2e.connect(user);
    const laptop = await e2e.connect(user);
    await publishTo([user], 3);
    const { items } = await storedFor(user, 3);
    await eventually(() => expect(phone.notifications()).toHaveLength(3));
    // Only what the marks below cause counts, whatever else a connect may have sent.
    const from = new Map([phone, laptop].map((client) => [client, client.frames.length]));
    const states = (client: typeof phone) =>
      client.frames
        .slice(from.get(client))
        .filter((frame) => frame.type === 'state')
        .map((frame) => frame.unread);

    const first = items[0]?.id ?? '';
    const marked = await call('POST', `/notifications/${first}/read`, { userId: user });
    expect(marked).toEqual({ status: 200, body: { unread: 2, unseen: 3 } });
    await eventually(() => {
      expect(states(phone)).toEqual([2]);
      expect(states(laptop)).toEqual([2]);
    });
    expect((await list(user, '?unread=true')).items.map((item) => item.id)).not.toContain(first);

    // Marking it again changes nothing and pushes nothing.
    expect(await call('POST', `/notifications/${first}/read`, { userId: user })).toEqual({
      status: 200,
      body: { unread: 2, unseen: 3 },
    });

    expect(await call('POST', '/notifications/read-all', { userId: user })).toEqual({
      status: 200,
      body: { unread: 0, unseen: 3 },
    });
    await eventually(() => {
      expect(states(phone)).toEqual([2, 0]);
      expect(states(laptop)).toEqual([2, 0]);
    });
    expect(await call('GET', '/notifications/unread-count', { userId: user })).toEqual({
      status: 200,
      body: { unread: 0, unseen: 3 },
    });

    expect(await call('POST', `/notifications/${first}/unread`, { userId: user })).toEqual({
      status: 200,
      body: { unread: 1, unseen: 3 },
    });
    expect(await call('DELETE', `/notifications/${first}`, { userId: user })).toEqual({
      status: 200,
      body: { unread: 0, unseen: 2 },
    });
    await eventually(() => expect(states(laptop)).toEqual([2, 0, 1, 0]));
    expect((await list(user)).items).toHaveLength(2);
  });

  it('never lets another user or another tenant read, mark or delete a notification', async () => {
    const user = `owner-${randomUUID().slice(0, 8)}`;
    await publishTo([user], 1);
    const [mine] = (await storedFor(user, 1)).items;
    const id = mine?.id ?? '';
    const intruders = [{ userId: 'bob' }, { userId: user, claims: { tenant: 'globex' } }];

    for (const intruder of intruders) {
      expect(
        (await list(intruder.userId, '', intruder.claims)).items.map((item) => item.id),
      ).not.toContain(id);
      for (const [method, path] of [
        ['POST', `/notifications/${id}/read`],
        ['POST', `/notifications/${id}/unread`],
        ['DELETE', `/notifications/${id}`],
      ] as const) {
        const answer = await call(method, path, intruder);
        expect(answer).toEqual({
          status: 404,
          body: { error: { code: 'not_found', message: 'notification not found' } },
        });
      }
    }

    // Nor through a cursor: one from the owner's listing does not open their partition.
    await publishTo([user], 2);
    const page = await storedFor(user, 3).then(() => list(user, '?limit=1'));
    expect(page.cursor).toBeDefined();
    for (const intruder of intruders) {
      const answer = await call('GET', `/notifications?limit=5&cursor=${page.cursor}`, intruder);
      expect(answer).toEqual({
        status: 400,
        body: { error: { code: 'bad_request', message: 'cursor is not valid' } },
      });
    }

    const after = await storedFor(user, 3);
    expect(after.items.find((item) => item.id === id)).toMatchObject({ read: false });
    expect(await call('GET', '/notifications/unread-count', { userId: user })).toEqual({
      status: 200,
      body: { unread: 3, unseen: 3 },
    });
  });

  it('refuses a missing or bad token with 401 and the error body', async () => {
    for (const token of [null, 'not-a-jwt', await e2e.token('alice').then((t) => `${t}x`)]) {
      const answer = await call('GET', '/notifications', { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
  });

  it('answers every kind of refusal with 401 and the contract’s body, naming the reason', async () => {
    const alice = await e2e.token('alice');
    const expired = await signHs256({ sub: 'alice' }, { expiresIn: -120 }, E2E_SECRET);
    const cases: Array<[string, Parameters<typeof call>[2], string]> = [
      ['no Authorization header', { token: null }, 'bearer token missing'],
      [
        'another scheme',
        { authorization: 'Basic YWxpY2U6c2VjcmV0' },
        'authorization is not a single bearer token',
      ],
      [
        'a token without the scheme',
        { authorization: alice },
        'authorization is not a single bearer token',
      ],
      ['an expired token', { token: expired }, 'token expired'],
    ];
    for (const [what, options, message] of cases) {
      for (const [method, path] of [
        ['GET', '/notifications'],
        ['POST', '/notifications/read-all'],
        ['PUT', '/preferences'],
      ] as const) {
        const answer = await call(method, path, {
          ...options,
          body: method === 'PUT' ? {} : undefined,
        });
        expect({ what, method, path, ...answer }).toEqual({
          what,
          method,
          path,
          status: 401,
          body: { error: { code: 'unauthorized', message } },
        });
      }
    }
  });

  it('answers bad input with 400 and unknown routes with 404, in the error body', async () => {
    const cases: Array<[string, string, number]> = [
      ['GET', '/notifications?limit=0', 400],
      ['GET', '/notifications?limit=101', 400],
      ['GET', '/notifications?cursor=garbage!', 400],
      ['GET', '/notifications?unread=maybe', 400],
      ['POST', '/notifications/not-an-id/read', 400],
      ['GET', '/notifications/01J00000000000000000000000', 404],
      ['PATCH', '/notifications/read-all', 404],
    ];
    for (const [method, path, status] of cases) {
      const answer = await call(method, path);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status });
      expect(answer.body).toEqual({
        error: { code: expect.any(String), message: expect.any(String) },
      });
    }
  });

  it('reads and replaces preferences, refusing what is not valid', async () => {
    const user = `prefs-${randomUUID().slice(0, 8)}`;
    const preferences = { types: { 'a.muted': { email: 'never' } } };

    expect(
      (await call('PUT', '/preferences', { userId: user, body: { channels: { sms: true } } }))
        .status,
    ).toBe(400);
    const put = await call('PUT', '/preferences', { userId: user, body: preferences });
    expect(put.status).toBe(200);
    const got = await call('GET', '/preferences', { userId: user });
    expect(got).toEqual(put);
    expect(got.body).toMatchObject({ preferences });
  });
});
