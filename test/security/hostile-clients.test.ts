/**
 * What a hostile client tries over the socket of the launched local stack, with real `ws`
 * clients and real tokens (README "Security"): each attempt must get its refusal, and the
 * attacks that already failed safely must keep failing.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DEFAULT_MESSAGE_LIMITS, MAX_TOPICS_PER_REQUEST } from '#core/messages';
import { DEFAULT_MAX_CONNECTIONS_PER_USER } from '#handlers/connect';
import { E2E_SECRET, type E2e, eventually, roundTrip, startE2e } from '#test/support/e2e';
import { OTHER_SECRET, signHs256, unsecuredToken } from '#test/support/tokens';

let e2e: E2e;
let connections: DynamoConnectionStore;

beforeAll(async () => {
  e2e = await startE2e();
  connections = new DynamoConnectionStore(e2e.doc, e2e.stack.tables.connections);
});

afterAll(async () => {
  await e2e?.stop();
});

/** The handshake's HTTP status: 101 when the socket opened (and then closed again). */
function handshakeStatus(token: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const socket = new WebSocket(`${e2e.stack.urls.websocket}/?token=${token}`);
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('open', () => {
      socket.terminate();
      resolve(101);
    });
    socket.once('error', () => undefined);
  });
}

describe('the handshake (already refused; kept so)', () => {
  const claims = { sub: 'mallory', tenant: 'acme' };

  it.each([
    ['alg none', async () => unsecuredToken(claims)],
    ['the wrong key', async () => signHs256(claims, {}, OTHER_SECRET)],
    ['an expired token', async () => signHs256(claims, { expiresIn: -60 }, E2E_SECRET)],
    ['no exp', async () => signHs256(claims, { expiresIn: null }, E2E_SECRET)],
  ])('refuses %s with 401', async (_what, token) => {
    expect(await handshakeStatus(await token())).toBe(401);
  });

  it('lets the same claims in when signed properly (so the refusals above are about the token)', async () => {
    expect(await handshakeStatus(await signHs256(claims, {}, E2E_SECRET))).toBe(101);
  });
});

describe('frames of a connected client', () => {
  it('keeps a client with a `>` grant out of another tenant’s topics', async () => {
    const mallory = await e2e.connect('mallory-tenant', { tenant: 'acme', topics: ['>'] });
    const victim = await e2e.connect('victim-tenant', { tenant: 'globex', topics: ['news'] });
    for (const client of [mallory, victim]) {
      expect(await client.request('subscribe', { topics: ['news'] })).toMatchObject({ ok: true });
    }
    // A tenant-looking topic is no way out either: `#` is not a topic character.
    expect(await mallory.request('subscribe', { topics: ['T#globex#news'] })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    await e2e.publish({ id: 'sec-tenant-1', type: 't', tenant: 'globex', to: { topic: 'news' } });
    await eventually(() => expect(victim.notifications()).toHaveLength(1));
    await roundTrip(mallory);
    expect(mallory.notifications()).toEqual([]);
  });

  it('refuses a presence query without a grant covering presence.<user>', async () => {
    const target = 'victim-presence';
    await e2e.connect(target);
    const plain = await e2e.connect('mallory-presence', { topics: ['demo.*'] });
    const reply = await plain.request('presence', { users: [target] });
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(reply).not.toHaveProperty('result');

    const granted = await e2e.connect('watcher-presence', { topics: [`presence.${target}`] });
    expect(await granted.request('presence', { users: [target] })).toMatchObject({
      ok: true,
      result: { online: { [target]: true } },
    });
  });

  it('refuses a subscribe past the subscriptions cap as a whole, and the socket stays usable', async () => {
    const cap = DEFAULT_MESSAGE_LIMITS.subscriptionsPerConnection;
    const client = await e2e.connect('mallory-subscribe', { topics: ['demo.*'] });
    const chunk = (start: number) =>
      Array.from({ length: MAX_TOPICS_PER_REQUEST }, (_, i) => `demo.t${start + i}`);
    for (let start = 0; start < cap; start += MAX_TOPICS_PER_REQUEST) {
      expect(await client.request('subscribe', { topics: chunk(start) })).toMatchObject({
        ok: true,
      });
    }
    const refused = await client.request('subscribe', { topics: ['demo.t0', 'demo.extra'] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'too_many_subscriptions' } });

    const [ref] = (await connections.listForUser('default', 'mallory-subscribe')).items;
    const stored = await connections.get(ref?.connectionId ?? '');
    expect(stored?.topics).toHaveLength(cap);
    expect(stored?.topics).not.toContain('demo.extra');
    await roundTrip(client);
  });

  it('refuses a markRead naming more ids than its cap', async () => {
    const client = await e2e.connect('mallory-ids');
    const ids = Array.from({ length: DEFAULT_MESSAGE_LIMITS.idsPerRequest + 1 }, (_, i) => `n${i}`);
    expect(await client.request('markRead', { ids })).toMatchObject({
      ok: false,
      error: { code: 'too_many_ids' },
    });
  });

  it('refuses a presence query naming more users than its cap', async () => {
    const client = await e2e.connect('mallory-users', { topics: ['presence.*'] });
    const users = Array.from(
      { length: DEFAULT_MESSAGE_LIMITS.presenceUsers + 1 },
      (_, i) => `u${i}`,
    );
    expect(await client.request('presence', { users })).toMatchObject({
      ok: false,
      error: { code: 'too_many_users' },
    });
  });

  it('closes the oldest connection of a user who opens more than the cap, and keeps the new one', async () => {
    const user = 'mallory-sockets';
    const clients = [];
    for (let i = 0; i < DEFAULT_MAX_CONNECTIONS_PER_USER; i++)
      clients.push(await e2e.connect(user));
    const [oldest] = clients;
    const closed = new Promise<void>((resolve) => oldest?.socket.once('close', () => resolve()));

    const newest = await e2e.connect(user);
    await roundTrip(newest);
    await eventually(async () => {
      const listed = (await connections.listForUser('default', user)).items;
      expect(listed).toHaveLength(DEFAULT_MAX_CONNECTIONS_PER_USER);
    });
    await closed;
    expect(clients.slice(1).every((client) => client.socket.readyState === WebSocket.OPEN)).toBe(
      true,
    );
  });
});
