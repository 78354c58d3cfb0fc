import { describe, expect, it } from 'vitest';
import { HeraldHttpError, httpClient } from '#client/herald-client';

interface Call {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/** A fetch that records each call and answers from `answer` (200 `{}` by default). */
function recordingFetch(answer: (call: Call) => { status?: number; body?: unknown } = () => ({})): {
  calls: Call[];
  fetch: (input: string, init: RequestInit) => Promise<Response>;
} {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const headers = init.headers as Record<string, string>;
      const call: Call = {
        method: init.method ?? 'GET',
        url: input,
        authorization: headers.authorization,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const { status = 200, body = {} } = answer(call);
      return new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    },
  };
}

/** An unsigned JWT-shaped token expiring at `exp` (epoch s): the client only reads `exp`. */
const tokenExpiring = (exp: number, n: number) =>
  `h.${btoa(JSON.stringify({ exp, n })).replaceAll('=', '')}.s`;

describe('client.inbox and client.preferences over HTTP', () => {
  it('sends each typed method to its route with the bearer token', async () => {
    const { calls, fetch } = recordingFetch(() => ({ body: { unread: 4, unseen: 2 } }));
    const { inbox, preferences } = httpClient({
      httpUrl: 'https://api.test/',
      token: 'tok',
      fetch,
    });
    await expect(inbox.markRead('n/1')).resolves.toEqual({ unread: 4, unseen: 2 });
    await inbox.markUnread('n1');
    await inbox.markSeen('n1');
    await inbox.archive('n1');
    await inbox.unarchive('n1');
    await inbox.snooze('n1', new Date('2030-01-02T09:00:00Z'));
    await inbox.interact('n1', 1);
    await inbox.unsnooze('n1');
    await inbox.remove('n1');
    await inbox.seenAll();
    await inbox.readAll();
    await inbox.bulk('delete', { tag: 'x' }, { requestId: 'r-1' });
    await inbox.counts({ all: {}, unread: { read: false } });
    await inbox.list({ archived: true, cursor: 'c1' });
    await preferences.put({ types: { 'a.b': { email: 'never' } } });

    expect(calls.map((call) => `${call.method} ${call.url}`)).toEqual([
      'POST https://api.test/notifications/n%2F1/read',
      'POST https://api.test/notifications/n1/unread',
      'POST https://api.test/notifications/n1/seen',
      'POST https://api.test/notifications/n1/archive',
      'POST https://api.test/notifications/n1/unarchive',
      'POST https://api.test/notifications/n1/snooze',
      'POST https://api.test/notifications/n1/interact',
      'POST https://api.test/notifications/n1/unsnooze',
      'DELETE https://api.test/notifications/n1',
      'POST https://api.test/notifications/seen-all',
      'POST https://api.test/notifications/read-all',
      'POST https://api.test/notifications/bulk',
      'POST https://api.test/notifications/counts',
      'GET https://api.test/notifications?cursor=c1&archived=true',
      'PUT https://api.test/preferences',
    ]);
    expect(calls.every((call) => call.authorization === 'Bearer tok')).toBe(true);
    expect(calls[5]?.body).toEqual({ until: '2030-01-02T09:00:00.000Z' });
    expect(calls[6]?.body).toEqual({ action: 1 });
    expect(calls[11]?.body).toEqual({ action: 'delete', filter: { tag: 'x' }, requestId: 'r-1' });
    expect(calls[12]?.body).toEqual({ filters: { all: {}, unread: { read: false } } });
    expect(calls[14]?.body).toEqual({ types: { 'a.b': { email: 'never' } } });
  });

  it('reads counts, a server without unseen as unseen = unread, and preferences with locked types', async () => {
    const { fetch } = recordingFetch((call) => {
      if (call.url.endsWith('/counts')) return { body: { counts: { all: 3 }, unread: 2 } };
      if (call.url.endsWith('/bulk')) return { body: { matched: 5, changed: 4, unread: 1 } };
      return { body: { preferences: {}, effective: { channels: {}, types: {} }, locked: ['sec'] } };
    });
    const { inbox, preferences } = httpClient({ httpUrl: 'https://api.test', token: 't', fetch });
    await expect(inbox.counts({ all: {} })).resolves.toEqual({
      counts: { all: 3 },
      unread: 2,
      unseen: 2,
    });
    await expect(inbox.bulk('read')).resolves.toEqual({
      matched: 5,
      changed: 4,
      unread: 1,
      unseen: 1,
    });
    await expect(preferences.get()).resolves.toMatchObject({ locked: ['sec'], tenantDefaults: {} });
  });

  it('follows a bulk action that answers 202 with a cursor to the end, keeping its upTo', async () => {
    const answers = [
      { status: 202, body: { done: false, matched: 50, changed: 50, upTo: 'n9', cursor: 'k1' } },
      { status: 202, body: { done: false, matched: 50, changed: 49, upTo: 'n9', cursor: 'k2' } },
      { body: { done: true, matched: 7, changed: 7, upTo: 'n9', unread: 0, unseen: 0 } },
    ];
    const { calls, fetch } = recordingFetch(() => answers.shift() ?? {});
    const { inbox } = httpClient({ httpUrl: 'https://api.test', token: 't', fetch });
    await expect(inbox.bulk('read', { tag: 'b' })).resolves.toEqual({
      matched: 107,
      changed: 106,
      unread: 0,
      unseen: 0,
      upTo: 'n9',
    });
    expect(calls.map((call) => call.body)).toEqual([
      { action: 'read', filter: { tag: 'b' } },
      { action: 'read', filter: { tag: 'b' }, upTo: 'n9', cursor: 'k1' },
      { action: 'read', filter: { tag: 'b' }, upTo: 'n9', cursor: 'k2' },
    ]);
  });

  it("turns the API's error answers into HeraldHttpError with code and status", async () => {
    const { fetch } = recordingFetch(() => ({
      status: 400,
      body: { error: { code: 'bad_request', message: 'until: must be an ISO time' } },
    }));
    const { inbox } = httpClient({ httpUrl: 'https://api.test', token: 't', fetch });
    const error = await inbox.snooze('n1', 'soon').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldHttpError);
    expect(error).toMatchObject({
      code: 'bad_request',
      status: 400,
      message: 'until: must be an ISO time',
    });
  });

  it('reuses a token from the callback until near its exp, and asks again after a 401', async () => {
    let now = 1_000_000_000_000;
    let issued = 0;
    const token = () => tokenExpiring(now / 1000 + 300, ++issued);
    const { calls, fetch } = recordingFetch();
    const { inbox } = httpClient({ httpUrl: 'https://api.test', token, fetch, now: () => now });
    await inbox.readAll();
    await inbox.readAll();
    expect(issued).toBe(1);
    now += 290_000; // within 30 s of its exp: a fresh one
    await inbox.readAll();
    expect(issued).toBe(2);
    expect(calls.map((call) => call.authorization)).toEqual([
      `Bearer ${tokenExpiring(1_000_000_300, 1)}`,
      `Bearer ${tokenExpiring(1_000_000_300, 1)}`,
      `Bearer ${tokenExpiring(1_000_000_590, 2)}`,
    ]);

    // The server refuses the third token (revoked early): the callback is asked once more.
    const refusing = recordingFetch((call) =>
      call.authorization === `Bearer ${tokenExpiring(now / 1000 + 300, 3)}`
        ? { status: 401, body: { error: { code: 'unauthorized', message: 'revoked' } } }
        : { body: { unread: 0 } },
    );
    const again = httpClient({
      httpUrl: 'https://api.test',
      token,
      fetch: refusing.fetch,
      now: () => now,
    });
    await expect(again.inbox.readAll()).resolves.toEqual({ unread: 0, unseen: 0 });
    expect(refusing.calls).toHaveLength(2);
    expect(issued).toBe(4);
  });

  it('says what is missing when there is no httpUrl', async () => {
    const { inbox } = httpClient({ httpUrl: undefined as unknown as string, token: 't' });
    await expect(inbox.readAll()).rejects.toMatchObject({ code: 'no_http_url' });
  });
});
