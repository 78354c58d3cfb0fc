/**
 * What the WebSocket gateway tests share: handlers that record every event, and `ws` clients
 * that open, get refused, read frames and wait for closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
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
export function recordingHandlers() {
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

/** Ends every client opened since the last call (an `afterEach` of each gateway test file). */
export function terminateClients(): void {
  for (const ws of clients.splice(0)) ws.terminate();
}

export function client(url: string, protocols?: string[]): WebSocket {
  const ws = new WebSocket(url, protocols);
  clients.push(ws);
  return ws;
}

export function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = client(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The HTTP status a refused handshake got. */
export function refusal(url: string): Promise<number> {
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

export function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

export async function until<T>(
  read: () => T | undefined,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function disconnectOf(events: WebSocketEvent[], connectionId: string) {
  return until(
    () => events.find((event) => event.requestContext.connectionId === connectionId),
    `$disconnect of ${connectionId}`,
  );
}

export async function withGateway(
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
