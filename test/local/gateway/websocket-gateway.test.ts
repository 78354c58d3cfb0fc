import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebSocketGateway, type WebSocketGateway } from '#local/gateway/websocket-gateway';
import {
  closed,
  disconnectOf,
  nextMessage,
  open,
  recordingHandlers,
  terminateClients,
  until,
  withGateway,
} from '#test/support/gateway-harness';

afterEach(terminateClients);

describe('WebSocket gateway', () => {
  const { seen, handlers } = recordingHandlers();
  let gateway: WebSocketGateway;

  beforeAll(async () => {
    gateway = await startWebSocketGateway({ port: 0, handlers });
  });
  afterAll(async () => {
    await gateway?.stop();
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
