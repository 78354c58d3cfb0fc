/** The client refreshes its connection before the token runs out, through its token callback. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenExpiry } from '#client/token-refresh';
import { closeHarnesses, connected, setup } from './harness';

afterEach(closeHarnesses);

const NOW = 1_800_000_000_000;

/** A JWT-shaped token (unsigned: the client never verifies) expiring `ttl` s after NOW. */
function jwt(ttl: number, n: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256' })}.${encode({ sub: 'alice', n, exp: NOW / 1000 + ttl })}.sig`;
}

describe('token refresh', () => {
  it('reads exp from a token, and nothing from one that is not a JWT', () => {
    expect(tokenExpiry(jwt(60, 1))).toBe(NOW / 1000 + 60);
    expect(tokenExpiry('opaque')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
  });

  it('sends refresh with a fresh token at 80% of the lifetime, on the same socket', async () => {
    let issued = 0;
    const harness = await setup({ token: () => jwt(100, ++issued), now: () => NOW });
    const refreshes: string[] = [];
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'refresh') return false;
      refreshes.push(String(frame.token));
      connection.send({
        type: 'reply',
        requestId: frame.requestId,
        ok: true,
        result: { expiresAt: 1 },
      });
      return true;
    };
    await connected(harness);
    harness.clock.advance(79_000);
    expect(refreshes).toEqual([]);
    harness.clock.advance(1_000);
    await vi.waitFor(() => expect(refreshes).toEqual([jwt(100, 2)]));
    expect(harness.gateway.connections).toHaveLength(1);
  });

  it('reports a refused refresh as an error event', async () => {
    const harness = await setup({ token: () => jwt(10, 1), now: () => NOW });
    const errors: Array<{ code: string }> = [];
    harness.client.on('error', (error) => errors.push(error));
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'refresh') return false;
      const error = { code: 'refresh_mismatch', message: 'not yours' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);
    harness.clock.advance(8_000);
    await vi.waitFor(() => expect(errors.map((error) => error.code)).toEqual(['refresh_mismatch']));
  });

  it('never refreshes a fixed token', async () => {
    const harness = await setup({ token: jwt(10, 1), now: () => NOW });
    const actions: unknown[] = [];
    harness.gateway.onFrame = (_connection, frame) => {
      actions.push(frame.action);
      return false;
    };
    await connected(harness);
    harness.clock.advance(20_000);
    expect(actions).not.toContain('refresh');
  });
});
