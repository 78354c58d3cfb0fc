import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { WebSocketAuthorizerEvent, WebSocketEvent } from '#local/gateway/events';
import {
  type GatewayLimits,
  startWebSocketGateway,
  type WebSocketGateway,
  type WebSocketHandlers,
} from '#local/gateway/websocket-gateway';

/**
 * Handlers that record every event and act on what the client sent. They are typed like real
 * handlers (aws-lambda types); the records use the gateway's own, exact event types.
 */
function recordingHandlers() {
  const seen = {
    authorizer: [] as WebSocketAuthorizerEvent[],
    connect: [] as WebSocketEvent[],
    default: [] as WebSocketEvent[],
    disconnect: [] as WebSocketEvent[],
    finished: [] as string[],
  };
  const handlers: WebSocketHandlers = {
    async authorizer(event) {
      seen.authorizer.push(event as unknown as WebSocketAuthorizerEvent);
      const token = event.queryStringParameters?.token;
      if (token === 'crash') throw new Error('key store unreachable');
      if (token !== 'alice' && token !== 'deny') throw new Error('Unauthorized');
      const result: APIGatewayAuthorizerResult = {
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'execute-api:Invoke',
              Effect: token === 'deny' ? 'Deny' : 'Allow',
              Resource: event.methodArn,
            },
          ],
        },
        context: { userId: 'alice', tenant: 'acme', admin: true, level: 3 },
      };
      return result;
    },
    async connect(event) {
      seen.connect.push(event as WebSocketEvent);
      const answer = event.queryStringParameters?.connect;
      if (answer === 'throw') throw new Error('connections table unreachable');
      if (answer !== undefined) return { statusCode: Number(answer) };
      const protocol = event.queryStringParameters?.protocol;
      return protocol
        ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': protocol } }
        : { statusCode: 200 };
    },
    async default(event) {
      seen.default.push(event as WebSocketEvent);
      const body = event.body ?? '';
      if (body === 'fail') throw new Error('handler bug');
      if (body.startsWith('echo:')) return { statusCode: 200, body: body.slice(5) };
      const delayed = /^delay:(\d+):(.+)$/.exec(body);
      if (delayed) {
        await sleep(Number(delayed[1]));
        seen.finished.push(delayed[2] ?? '');
      }
      return { statusCode: 200 };
    },
    async disconnect(event) {
      seen.disconnect.push(event as WebSocketEvent);
    },
  };
  return { seen, handlers };
}

const clients: WebSocket[] = [];

function client(url: string, protocols?: string[]): WebSocket {
  const ws = new WebSocket(url, protocols);
  clients.push(ws);
  return ws;
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = client(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The HTTP status a refused handshake got. */
function refusal(url: string): Promise<number> {
  const ws = client(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the handshake was accepted')));
    ws.once('unexpected-response', (request, response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    ws.once('error', () => undefined);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

async function until<T>(read: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function disconnectOf(events: WebSocketEvent[], connectionId: string) {
  return until(
    () => events.find((event) => event.requestContext.connectionId === connectionId),
    `$disconnect of ${connectionId}`,
  );
}

async function withGateway(
  limits: Partial<GatewayLimits>,
  test: (
    gateway: WebSocketGateway,
    seen: ReturnType<typeof recordingHandlers>['seen'],
  ) => Promise<void>,
) {
  const { seen, handlers } = recordingHandlers();
  const gateway = await startWebSocketGateway({ port: 0, handlers, limits });
  try {
    await test(gateway, seen);
  } finally {
    await gateway.stop();
  }
}

afterEach(() => {
  for (const ws of clients.splice(0)) ws.terminate();
});

describe('WebSocket gateway', () => {
  const { seen, handlers } = recordingHandlers();
  let gateway: WebSocketGateway;

  beforeAll(async () => {
    gateway = await startWebSocketGateway({ port: 0, handlers });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  describe('handshake', () => {
    it('answers 401 to a token the authorizer calls Unauthorized, and never runs $connect', async () => {
      const connects = seen.connect.length;
      expect(await refusal(`${gateway.url}/?token=forged`)).toBe(401);
      expect(await refusal(gateway.url)).toBe(401);
      expect(seen.connect.length).toBe(connects);
    });

    it('answers 403 to a denying policy and 500 to a failing authorizer', async () => {
      const connects = seen.connect.length;
      expect(await refusal(`${gateway.url}/?token=deny`)).toBe(403);
      expect(await refusal(`${gateway.url}/?token=crash`)).toBe(500);
      expect(seen.connect.length).toBe(connects);
    });

    it('sends the authorizer a REQUEST event for $connect with the token in the query', async () => {
      const ws = await open(`${gateway.url}/?token=alice&lang=en&lang=fr`);
      const event = seen.authorizer.at(-1);
      expect(event).toMatchObject({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:000000000000:${gateway.apiId}/local/$connect`,
        queryStringParameters: { token: 'alice', lang: 'fr' },
        multiValueQueryStringParameters: { token: ['alice'], lang: ['en', 'fr'] },
        stageVariables: {},
        requestContext: {
          routeKey: '$connect',
          eventType: 'CONNECT',
          stage: 'local',
          apiId: gateway.apiId,
          identity: { sourceIp: '127.0.0.1' },
        },
      });
      expect(event?.headers).toMatchObject({
        Host: `127.0.0.1:${gateway.port}`,
        'X-Forwarded-For': '127.0.0.1',
        'Sec-WebSocket-Version': '13',
      });
      expect(event?.requestContext.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
      ws.close();
    });

    it('runs $connect with the authorizer context and principalId, then opens the socket', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const authorized = seen.authorizer.at(-1);
      const event = seen.connect.at(-1);
      expect(event?.requestContext).toMatchObject({
        routeKey: '$connect',
        eventType: 'CONNECT',
        connectionId: authorized?.requestContext.connectionId,
        authorizer: {
          principalId: 'alice',
          userId: 'alice',
          tenant: 'acme',
          admin: 'true',
          level: '3',
          integrationLatency: expect.any(Number),
        },
      });
      expect(event?.queryStringParameters).toEqual({ token: 'alice' });
      expect(event?.isBase64Encoded).toBe(false);
      expect(gateway.connectionIds()).toContain(event?.requestContext.connectionId);
      ws.close();
    });

    it('refuses the upgrade with the status $connect returns, and 502 when it throws', async () => {
      expect(await refusal(`${gateway.url}/?token=alice&connect=403`)).toBe(403);
      expect(await refusal(`${gateway.url}/?token=alice&connect=throw`)).toBe(502);
    });

    it('accepts the stage path as AWS does, and refuses other paths before any handler', async () => {
      const ws = await open(`${gateway.url}/local?token=alice`);
      ws.close();
      const authorizations = seen.authorizer.length;
      expect(await refusal(`${gateway.url}/elsewhere?token=alice`)).toBe(403);
      expect(seen.authorizer.length).toBe(authorizations);
    });

    it('agrees on a subprotocol only when $connect names it', async () => {
      const ws = await open(`${gateway.url}/?token=alice&protocol=herald.v1`, ['herald.v1']);
      expect(ws.protocol).toBe('herald.v1');
      ws.close();
      await expect(open(`${gateway.url}/?token=alice`, ['herald.v1'])).rejects.toThrow(
        /subprotocol/,
      );
    });
  });

  describe('messages', () => {
    it('routes a text frame to $default and sends its body back to that client only', async () => {
      const alice = await open(`${gateway.url}/?token=alice`);
      const other = await open(`${gateway.url}/?token=alice`);
      const connect = seen.connect.at(-2);

      const reply = nextMessage(alice);
      alice.send('echo:hello');
      expect(await reply).toBe('hello');
      // Frames keep their order per socket: `other`'s first frame is its own reply, not alice's.
      const otherReply = nextMessage(other);
      other.send('echo:mine');
      expect(await otherReply).toBe('mine');

      const event = seen.default.find((e) => e.body === 'echo:hello');
      expect(event).toMatchObject({ body: 'echo:hello', isBase64Encoded: false });
      expect(event).not.toHaveProperty('headers');
      expect(event?.requestContext).toMatchObject({
        routeKey: '$default',
        eventType: 'MESSAGE',
        messageDirection: 'IN',
        connectionId: connect?.requestContext.connectionId,
        connectedAt: connect?.requestContext.connectedAt,
        authorizer: connect?.requestContext.authorizer,
        messageId: expect.stringMatching(/=$/),
      });
    });

    it("answers a failing $default with API Gateway's error frame and keeps the socket open", async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const errorFrame = nextMessage(ws);
      ws.send('fail');
      const frame = await errorFrame;
      const event = seen.default.find((e) => e.body === 'fail');
      expect(frame).toBe(
        `{"message": "Internal server error", "connectionId":"${event?.requestContext.connectionId}", ` +
          `"requestId":"${event?.requestContext.requestId}"}`,
      );
      const reply = nextMessage(ws);
      ws.send('echo:still here');
      expect(await reply).toBe('still here');
    });

    it("keeps one connection's $default invocations in frame order", async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      seen.finished.length = 0;
      for (const [delay, tag] of [
        [60, 'first'],
        [0, 'second'],
        [30, 'third'],
      ]) {
        ws.send(`delay:${delay}:${tag}`);
      }
      await until(() => (seen.finished.length === 3 ? true : undefined), 'three invocations');
      expect(seen.finished).toEqual(['first', 'second', 'third']);
    });
  });

  describe('limits', () => {
    it('closes with 1009 on a frame over 32 KB, as AWS does', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const id = seen.connect.at(-1)?.requestContext.connectionId ?? '';
      const close = closed(ws);
      ws.send('echo:'.padEnd(40 * 1024, 'x'));
      expect((await close).code).toBe(1009);
      const event = await disconnectOf(seen.disconnect, id);
      expect(event.requestContext.disconnectStatusCode).toBe(1009);
      expect(seen.default.some((e) => e.requestContext.connectionId === id)).toBe(false);
    });

    it('closes with 1009 on a message over 128 KB even in small frames', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const id = seen.connect.at(-1)?.requestContext.connectionId ?? '';
      const close = closed(ws);
      const part = 'x'.repeat(30 * 1024);
      for (let i = 0; i < 4; i++) ws.send(part, { fin: false });
      ws.send(part, { fin: true });
      expect((await close).code).toBe(1009);
      expect((await disconnectOf(seen.disconnect, id)).requestContext.disconnectStatusCode).toBe(
        1009,
      );
    });

    it('delivers a 100 KB message sent in frames of 25 KB', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const part = 'y'.repeat(25 * 1024);
      for (let i = 0; i < 3; i++) ws.send(part, { fin: false });
      ws.send(part, { fin: true });
      // Invocations keep frame order, so the reply to a later frame means the big one was routed.
      const reply = nextMessage(ws);
      ws.send('echo:ok');
      expect(await reply).toBe('ok');
      const event = seen.default.find((e) => e.body?.length === 100 * 1024);
      expect(event?.body).toBe(part.repeat(4));
    });

    it('closes with 1003 on a binary frame, which API Gateway does not accept', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const close = closed(ws);
      ws.send(Buffer.from([1, 2, 3]));
      expect((await close).code).toBe(1003);
    });

    it('closes an idle connection with 1001 and fires $disconnect', async () => {
      await withGateway({ idleTimeoutMs: 200 }, async (short, shortSeen) => {
        const ws = await open(`${short.url}/?token=alice`);
        const id = shortSeen.connect.at(-1)?.requestContext.connectionId ?? '';
        expect(await closed(ws)).toEqual({ code: 1001, reason: 'Going away' });
        const event = await disconnectOf(shortSeen.disconnect, id);
        expect(event.requestContext).toMatchObject({
          disconnectStatusCode: 1001,
          disconnectReason: 'Going away',
        });
        expect(short.connectionIds()).toEqual([]);
      });
    });

    it('keeps an active client past the idle timeout, then ends it at the maximum duration', async () => {
      await withGateway(
        { idleTimeoutMs: 400, maxConnectionMs: 1_600 },
        async (short, shortSeen) => {
          const ws = await open(`${short.url}/?token=alice`);
          const id = shortSeen.connect.at(-1)?.requestContext.connectionId ?? '';
          const close = closed(ws);
          const pinger = setInterval(() => ws.readyState === ws.OPEN && ws.send('ping'), 50);
          try {
            await sleep(1_000);
            expect(ws.readyState).toBe(ws.OPEN);
            expect((await close).code).toBe(1001);
          } finally {
            clearInterval(pinger);
          }
          const event = await disconnectOf(shortSeen.disconnect, id);
          expect(event.requestContext.disconnectStatusCode).toBe(1001);
        },
      );
    });
  });

  describe('disconnect', () => {
    it("fires $disconnect with the client's close code and reason and the authorizer context", async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const id = seen.connect.at(-1)?.requestContext.connectionId ?? '';
      ws.close(4000, 'bye');
      const event = await disconnectOf(seen.disconnect, id);
      expect(event.requestContext).toMatchObject({
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        disconnectStatusCode: 4000,
        disconnectReason: 'bye',
        authorizer: { principalId: 'alice', tenant: 'acme' },
      });
      expect(event.headers).toEqual({
        Host: `127.0.0.1:${gateway.port}`,
        'x-api-key': '',
        'X-Forwarded-For': '',
        'x-restapi': '',
      });
      expect(gateway.connectionIds()).not.toContain(id);
    });

    it('reports a close frame without a code as AWS does', async () => {
      const ws = await open(`${gateway.url}/?token=alice`);
      const id = seen.connect.at(-1)?.requestContext.connectionId ?? '';
      ws.close();
      const event = await disconnectOf(seen.disconnect, id);
      expect(event.requestContext).toMatchObject({
        disconnectStatusCode: 1005,
        disconnectReason: 'Client-side close frame status not set',
      });
    });
  });
});

describe('stopping the gateway', () => {
  it('closes every socket, fires their $disconnect, and can be called twice', async () => {
    const { seen, handlers } = recordingHandlers();
    const gateway = await startWebSocketGateway({ port: 0, handlers });
    try {
      const ws = await open(`${gateway.url}/?token=alice`);
      const id = seen.connect.at(-1)?.requestContext.connectionId ?? '';
      const close = closed(ws);
      await gateway.stop();
      expect((await close).code).toBe(1001);
      expect(seen.disconnect.map((e) => e.requestContext.connectionId)).toEqual([id]);
      expect(gateway.connectionIds()).toEqual([]);
      await expect(open(`${gateway.url}/?token=alice`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await gateway.stop();
    }
  });
});
