/**
 * Issue 11 item 7: the local stack is safe to run on a laptop. Its dev endpoints mint tokens
 * and publish without credentials, so a web page the developer visits must not reach them
 * (DNS rebinding sends a foreign Host, a cross-site request a foreign Origin); and one client
 * must not grow the gateway's per-connection work queue without bound.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebSocketGateway } from '#local/gateway/websocket-gateway';
import { localOnlyRefusal } from '#local/loopback-guard';
import { type E2e, startE2e } from '#test/support/e2e';
import { closed, open, recordingHandlers, terminateClients } from '#test/support/gateway-harness';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
});

afterAll(async () => {
  terminateClients();
  await e2e?.stop();
});

/** A raw HTTP request, so Host and Origin can be what an attacker's browser would send. */
function send(
  base: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const url = new URL(options.path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method, headers: { host: url.host, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the dev endpoints of the HTTP server', () => {
  it('refuse /dev/token for a foreign Host (DNS rebinding) with 403 and a clear body', async () => {
    const answer = await send(e2e.stack.urls.http, {
      method: 'GET',
      path: '/dev/token?user=alice',
      headers: { host: 'evil.example' },
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'forbidden', message: expect.stringMatching(/loopback Host/) },
    });
    expect(answer.body).not.toContain('token"');
  });

  it('refuse a cross-origin POST /dev/publish with 403, publishing nothing', async () => {
    const answer = await send(e2e.stack.urls.http, {
      method: 'POST',
      path: '/dev/publish',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ to: { users: ['alice'] }, title: 'pwned' }),
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/same-origin/);
  });

  it('still answer the developer: loopback Host, and no Origin or their own', async () => {
    const own = new URL(e2e.stack.urls.http);
    const variants: Record<string, string>[] = [
      {},
      { origin: own.origin },
      { host: `localhost:${own.port}` },
    ];
    for (const headers of variants) {
      const answer = await send(e2e.stack.urls.http, {
        method: 'GET',
        path: '/dev/token',
        headers,
      });
      expect(answer.status).toBe(200);
    }
  });
});

describe('the local @connections management API', () => {
  it('refuses a foreign Host or Origin with 403 before looking at the connection', async () => {
    const base = e2e.stack.urls.callback;
    const path = `${new URL(base).pathname.replace(/\/$/, '')}/@connections/abc%3D`;
    const foreign: Record<string, string>[] = [
      { host: 'evil.example' },
      { origin: 'https://evil.example' },
    ];
    for (const headers of foreign) {
      const answer = await send(base, { method: 'POST', path, headers, body: '{}' });
      expect(answer.status).toBe(403);
    }
    // The same request from the machine itself reaches the API (410: no such connection).
    expect((await send(base, { method: 'POST', path, body: '{}' })).status).toBe(410);
  });
});

describe('loopback guard', () => {
  it.each([
    [{ host: 'localhost:3000' }, true],
    [{ host: '127.0.0.1' }, true],
    [{ host: '[::1]:3000', origin: 'http://[::1]:3000' }, true],
    [{ host: 'localhost.evil.example' }, false],
    [{ host: 'alice@localhost' }, false],
    [{}, false],
    [{ host: 'localhost:3000', origin: 'null' }, false],
    [{ host: 'localhost:3000', origin: 'http://localhost:3001' }, false],
  ])('%o allowed: %s', (headers, allowed) => {
    expect(localOnlyRefusal(headers) === undefined).toBe(allowed);
  });
});

describe('the gateway’s per-connection work queue', () => {
  it('is bounded: a client outrunning its $default handler is closed with 1008', async () => {
    const { handlers } = recordingHandlers();
    let release = (): void => undefined;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    const gateway = await startWebSocketGateway({
      port: 0,
      limits: { maxQueuedFrames: 5 },
      handlers: {
        ...handlers,
        default: async () => {
          await blocked;
          handled += 1;
          return { statusCode: 200 };
        },
      },
    });
    try {
      const ws = await open(`${gateway.url}/?token=alice`);
      const closing = closed(ws);
      // The first frame is taken by the handler, the next 5 wait; the one after is too many.
      for (let at = 0; at < 20; at += 1) ws.send('{"action":"ping"}');
      expect(await closing).toEqual({ code: 1008, reason: 'Too many frames queued' });
      release();
      expect(handled).toBeLessThanOrEqual(6);
    } finally {
      release();
      await gateway.stop();
    }
  });
});
