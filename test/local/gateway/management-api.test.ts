import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SignedPostDelivery } from '#adapters/api-gateway-delivery';
import { ConnectionGoneError } from '#core/errors';
import type { WebSocketEvent } from '#local/gateway/events';
import { connectionIdFromPath } from '#local/gateway/management-api';
import {
  type GatewayLimits,
  startWebSocketGateway,
  type WebSocketGateway,
  type WebSocketHandlers,
} from '#local/gateway/websocket-gateway';

const clients: WebSocket[] = [];
const disconnects: WebSocketEvent[] = [];

const handlers: WebSocketHandlers = {
  authorizer: async (event) => ({
    principalId: 'alice',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
  }),
  connect: async () => ({ statusCode: 200 }),
  default: async () => ({ statusCode: 200 }),
  disconnect: async (event) => {
    disconnects.push(event as WebSocketEvent);
  },
};

function startGateway(limits?: Partial<GatewayLimits>) {
  return startWebSocketGateway({ port: 0, handlers, ...(limits && { limits }) });
}

function sdkClient(gateway: WebSocketGateway): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: gateway.callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Opens a client and finds its connection id (the one that just appeared). */
async function connect(gateway: WebSocketGateway): Promise<{ ws: WebSocket; id: string }> {
  const before = new Set(gateway.connectionIds());
  const ws = new WebSocket(gateway.url);
  clients.push(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const id = gateway.connectionIds().find((candidate) => !before.has(candidate));
  if (id === undefined) throw new Error('the new connection is not listed');
  return { ws, id };
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

async function failure(
  send: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await send;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the command succeeded');
}

afterEach(() => {
  for (const ws of clients.splice(0)) ws.terminate();
});

describe('@connections management API', () => {
  let gateway: WebSocketGateway;
  let sdk: ApiGatewayManagementApiClient;

  beforeAll(async () => {
    gateway = await startGateway();
    sdk = sdkClient(gateway);
  });
  afterAll(async () => {
    sdk?.destroy();
    await gateway?.stop();
  });

  it('delivers PostToConnection to the client as one text frame', async () => {
    const { ws, id } = await connect(gateway);
    const received = nextMessage(ws);
    const output = await sdk.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: '{"type":"notification"}' }),
    );
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(await received).toBe('{"type":"notification"}');
  });

  it('answers GetConnection with when and from where the client connected', async () => {
    const startedAt = Date.now();
    const { id } = await connect(gateway);
    const output = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(output.ConnectedAt).toBeInstanceOf(Date);
    expect(Math.abs((output.ConnectedAt?.getTime() ?? 0) - startedAt)).toBeLessThan(5_000);
    expect(output.LastActiveAt).toBeInstanceOf(Date);
    expect(output.Identity?.SourceIp).toBe('127.0.0.1');
  });

  it('closes the socket on DeleteConnection and fires $disconnect; the id is then gone', async () => {
    const { ws, id } = await connect(gateway);
    const close = closed(ws);
    const output = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect(output.$metadata.httpStatusCode).toBe(204);
    expect(await close).toBe(1000);
    const event = await until(() => disconnects.find((e) => e.requestContext.connectionId === id));
    expect(event.requestContext).toMatchObject({
      disconnectStatusCode: 1000,
      disconnectReason: 'Connection Closed Normally',
    });
    const error = await failure(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' })),
    );
    expect(error.name).toBe('GoneException');
  });

  it('throws GoneException with status 410 for an unknown connection, for every command', async () => {
    const commands = [
      new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: 'hello' }),
      new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }),
      new DeleteConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }),
    ];
    for (const command of commands) {
      // biome-ignore lint/suspicious/noExplicitAny: three command types through one client call
      const error = await failure(sdk.send(command as any));
      expect(error).toBeInstanceOf(GoneException);
      expect(error.name).toBe('GoneException');
      expect(error.$metadata?.httpStatusCode).toBe(410);
    }
  });

  it('refuses a post over 128 KB with PayloadTooLargeException (413)', async () => {
    const { ws, id } = await connect(gateway);
    const error = await failure(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'z'.repeat(128 * 1024 + 1) })),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeException);
    expect(error.$metadata?.httpStatusCode).toBe(413);
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('accepts the stage in the path, as the callback URL of a deployed stage has it', async () => {
    const { ws, id } = await connect(gateway);
    const received = nextMessage(ws);
    const response = await fetch(
      `${gateway.callbackUrl}/local/%40connections/${encodeURIComponent(id)}`,
      { method: 'POST', body: 'via the stage' },
    );
    expect(response.status).toBe(200);
    expect(await received).toBe('via the stage');
  });

  it("serves the fan-out's signed posts, with or without the stage, and 410 for the gone", async () => {
    const signed = (callbackUrl: string) =>
      new SignedPostDelivery({
        callbackUrl,
        region: 'us-east-1',
        credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
        agent: new Agent({ keepAlive: true }),
      });
    const { ws, id } = await connect(gateway);
    for (const callbackUrl of [gateway.callbackUrl, `${gateway.callbackUrl}/local`]) {
      const received = nextMessage(ws);
      await signed(callbackUrl).post(id, `{"via":"${callbackUrl}"}`);
      expect(await received).toBe(`{"via":"${callbackUrl}"}`);
    }
    const error = await failure(signed(gateway.callbackUrl).post('AAAAAAAAAAAAAAA=', 'hello'));
    expect(error).toBeInstanceOf(ConnectionGoneError);
  });

  it('answers 404 to any other path', async () => {
    for (const path of ['/', '/prod/@connections/abc', '/@connections', '/@connections/a/b']) {
      const response = await fetch(`${gateway.callbackUrl}${path}`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(404);
    }
  });
});

describe('connectionIdFromPath', () => {
  it('URL-decodes the id and the @, and takes an optional stage', () => {
    expect(connectionIdFromPath('/@connections/L0SM9cOFvHcCIhw%3D', 'local')).toBe(
      'L0SM9cOFvHcCIhw=',
    );
    expect(connectionIdFromPath('/%40connections/abc%3D', 'local')).toBe('abc=');
    expect(connectionIdFromPath('/local/@connections/abc=?x=1', 'local')).toBe('abc=');
    expect(connectionIdFromPath('/prod/@connections/abc=', 'local')).toBeUndefined();
    expect(connectionIdFromPath('/@connections/%E0%A4%A', 'local')).toBeUndefined();
  });
});

describe('server pushes and the idle timeout', () => {
  it('counts posts to a client as activity, as API Gateway does', async () => {
    const gateway = await startGateway({ idleTimeoutMs: 400 });
    const sdk = sdkClient(gateway);
    try {
      const { ws, id } = await connect(gateway);
      const messages: string[] = [];
      ws.on('message', (data) => messages.push(data.toString()));
      for (let i = 0; i < 10; i++) {
        await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: `keep-alive ${i}` }));
        await sleep(100);
      }
      expect(ws.readyState).toBe(ws.OPEN);
      expect(messages).toHaveLength(10);
      // Left alone, it then times out.
      expect(await closed(ws)).toBe(1001);
    } finally {
      sdk.destroy();
      await gateway.stop();
    }
  });
});

async function until<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}
