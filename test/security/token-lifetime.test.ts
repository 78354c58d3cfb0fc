/**
 * A connection lives as long as its token (README "Security"), on the launched local stack
 * with real `ws` clients and real tokens: an expired socket hears nothing more and is
 * closed, a refreshed one stays, a refresh must be the same user's, and a cut-off closes
 * every socket of a user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cutOffCli } from '#local/cut-off';
import { signDevToken } from '#local/dev-token';
import { E2E_SECRET, type E2e, eventually, startE2e, type TestClient } from '#test/support/e2e';
import { signHs256 } from '#test/support/tokens';

/** Long enough for any machine to finish the handshake before the token runs out. */
const SHORT_TTL_SECONDS = 4;

let e2e: E2e;

beforeAll(async () => {
  // The timer never fires during the tests: they run the sweep themselves.
  e2e = await startE2e({ connectionSweepIntervalMs: 3_600_000 });
});

afterAll(async () => {
  await e2e?.stop();
});

/** A client holding a token that expires `ttlSeconds` from now, and that expiry. */
async function connectFor(userId: string, ttlSeconds: number) {
  const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
  return { ...(await e2e.connect(userId, { ttlSeconds })), expiresAt };
}

/** Resolves once the wall clock is past `epochSeconds` (a condition, not a time limit). */
async function pastExpiry(epochSeconds: number): Promise<void> {
  await eventually(
    () => {
      if (Date.now() / 1000 <= epochSeconds + 1) throw new Error('token not expired yet');
    },
    (SHORT_TTL_SECONDS + 10) * 1000,
  );
}

const closed = (socket: WebSocket) => () => {
  if (socket.readyState !== WebSocket.CLOSED) throw new Error('socket still open');
};

const notified = (client: Pick<TestClient, 'frames'>, eventId: string) =>
  client.frames.some(
    (frame) =>
      frame.type === 'notification' &&
      (frame.notification as { eventId?: string }).eventId === eventId,
  );

describe('a connection whose token expired', () => {
  it('gets no push published after the expiry, and the push closes it', async () => {
    const expiring = await connectFor('lifetime-lazy', SHORT_TTL_SECONDS);
    const watcher = await e2e.connect('lifetime-lazy-watcher');
    await pastExpiry(expiring.expiresAt);
    await e2e.publish({
      id: 'evt-after-expiry',
      type: 'test.lifetime',
      to: { users: ['lifetime-lazy', 'lifetime-lazy-watcher'] },
      title: 'after expiry',
    });
    await eventually(() => {
      if (!notified(watcher, 'evt-after-expiry')) throw new Error('not delivered yet');
    });
    await eventually(closed(expiring.socket));
    expect(notified(expiring, 'evt-after-expiry')).toBe(false);
  });

  it('is closed by the sweep without any push', async () => {
    const expiring = await connectFor('lifetime-swept', SHORT_TTL_SECONDS);
    const other = await connectFor('lifetime-swept-other', 3600);
    await pastExpiry(expiring.expiresAt);
    const result = await e2e.stack.sweepExpiredConnections();
    expect(result.closed).toBeGreaterThanOrEqual(1);
    await eventually(closed(expiring.socket));
    expect(other.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('refresh', () => {
  it('keeps a client that refreshes in time connected and receiving', async () => {
    const client = await connectFor('lifetime-refresh', SHORT_TTL_SECONDS);
    const fresh = await signDevToken({
      userId: 'lifetime-refresh',
      secret: E2E_SECRET,
      ttlSeconds: 3600,
    });
    const reply = await client.request('refresh', { token: fresh });
    expect(reply).toMatchObject({ type: 'reply', ok: true });
    const extended = (reply.result as { expiresAt: number }).expiresAt;
    expect(extended).toBeGreaterThan(client.expiresAt + 3000);

    await pastExpiry(client.expiresAt);
    await e2e.stack.sweepExpiredConnections();
    await e2e.publish({
      id: 'evt-after-refresh',
      type: 'test.lifetime',
      to: { users: ['lifetime-refresh'] },
    });
    await eventually(() => {
      if (!notified(client, 'evt-after-refresh')) throw new Error('not delivered yet');
    });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    expect(await client.request('ping')).toMatchObject({ type: 'pong' });
  });

  it.each([
    ['another user', { sub: 'lifetime-mallory' }, 'refresh_mismatch'],
    ['another tenant', { sub: 'lifetime-victim', tenant: 'globex' }, 'refresh_mismatch'],
  ])('refuses a token of %s', async (_what, claims, code) => {
    const client = await connectFor('lifetime-victim', 3600);
    const token = await signHs256(claims, {}, E2E_SECRET);
    const reply = await client.request('refresh', { token });
    expect(reply).toMatchObject({ ok: false, error: { code } });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it.each([
    [
      'an expired token',
      () => signHs256({ sub: 'lifetime-late' }, { expiresIn: -60 }, E2E_SECRET),
      'token_expired',
    ],
    ['a token signed with another key', () => signHs256({ sub: 'lifetime-late' }), 'unauthorized'],
  ])('refuses %s', async (_what, token, code) => {
    const client = await connectFor('lifetime-late', 3600);
    const reply = await client.request('refresh', { token: await token() });
    expect(reply).toMatchObject({ ok: false, error: { code } });
  });
});

describe('cutting a user off', () => {
  it('closes every socket of the user, and nobody else’s', async () => {
    const first = await connectFor('lifetime-cut', 3600);
    const second = await connectFor('lifetime-cut', 3600);
    const bystander = await connectFor('lifetime-bystander', 3600);
    await expect(e2e.stack.cutOff('default', 'lifetime-cut')).resolves.toEqual({
      closed: 2,
      failed: 0,
    });
    await eventually(closed(first.socket));
    await eventually(closed(second.socket));
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('works from the operator command against the local stack', async () => {
    const client = await connectFor('lifetime-cli', 3600);
    const output = await cutOffCli(['--tenant', 'default', '--user', 'lifetime-cli'], {
      AWS_ENDPOINT_URL_DYNAMODB: e2e.stack.urls.dynamodb,
      HERALD_CALLBACK_URL: e2e.stack.urls.callback,
    });
    expect(JSON.parse(output)).toMatchObject({ closed: 1, failed: 0 });
    await eventually(closed(client.socket));
  });

  it('refuses the command without a tenant or a user, closing nothing', async () => {
    await expect(cutOffCli(['--user', 'x'], {})).rejects.toThrow(/usage/);
    await expect(cutOffCli(['--tenant', 'a#b', '--user', 'x'], {})).rejects.toThrow(/tenant/);
  });
});
