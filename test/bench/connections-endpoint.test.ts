import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionIdOf, connectionsHandler, GONE_PREFIX } from '#bench/connections-endpoint';

describe('connectionIdOf', () => {
  it('reads the id of /@connections/{id}, with or without a stage, URL-decoded', () => {
    expect(connectionIdOf('/@connections/abc%3D')).toBe('abc=');
    expect(connectionIdOf('/local/@connections/abc')).toBe('abc');
    expect(connectionIdOf('/other/abc')).toBeUndefined();
    expect(connectionIdOf('/@connections/%E0%A4%A')).toBeUndefined();
  });
});

describe('connectionsHandler', () => {
  // Long enough that the five posts below overlap even on a busy machine.
  const endpoint = connectionsHandler(150);
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createServer(endpoint.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (path: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers posts after its latency and counts posts, connections and bytes', async () => {
    endpoint.reset();
    const statuses = await Promise.all([
      post('/@connections/a', 'hello'),
      post('/@connections/a', 'hi'),
      post('/@connections/b', 'hey'),
      post(`/@connections/${GONE_PREFIX}c`, 'x'),
      post('/elsewhere', 'x'),
    ]);
    expect(statuses).toEqual([200, 200, 200, 410, 404]);
    expect(endpoint.stats()).toMatchObject({ posts: 3, distinct: 2, bytes: 10 });
    expect(endpoint.stats().maxInFlight).toBeGreaterThan(1);
    expect(endpoint.stats().maxInFlight).toBeLessThanOrEqual(5);
    endpoint.reset();
    expect(endpoint.stats()).toEqual({ posts: 0, distinct: 0, maxInFlight: 0, bytes: 0 });
  });
});
