/**
 * What the HeraldClient tests share: a clock that moves only when told, a real `ws` server
 * standing in for API Gateway, and a client wired to both. Call `closeHarnesses` after each
 * test (`afterEach(closeHarnesses)`).
 */
import type { AddressInfo } from 'node:net';
import { expect, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type ConnectionEvent,
  HeraldClient,
  type HeraldClientOptions,
  type Notification,
  type Timers,
} from '#client/herald-client';

/** Timers that only move when a test says so; `ws` I/O still runs on the real event loop. */
export class ManualClock implements Timers {
  private now = 0;
  private nextId = 0;
  private readonly tasks = new Map<number, { at: number; callback: () => void }>();

  setTimeout = (callback: () => void, ms: number): unknown => {
    this.nextId += 1;
    this.tasks.set(this.nextId, { at: this.now + ms, callback });
    return this.nextId;
  };

  clearTimeout = (handle: unknown): void => {
    this.tasks.delete(handle as number);
  };

  get pending(): number {
    return this.tasks.size;
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const task of this.tasks)
        if (task[1].at <= target && (!next || task[1].at < next[1].at)) next = task;
      if (!next) break;
      this.tasks.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
    }
    this.now = target;
  }
}

export type Frame = Record<string, unknown>;

export interface GatewayConnection {
  index: number;
  token: string | null;
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
}

/** Stands in for API Gateway: a real `ws` server on port 0 that logs what it sees. */
export class FakeGateway {
  readonly connections: GatewayConnection[] = [];
  /** Tokens of every handshake, refused ones included. */
  readonly handshakes: (string | null)[] = [];
  readonly log: string[] = [];
  refuse = 0;
  answerPings = true;
  /** Returns true when it has dealt with the frame; otherwise the default answers apply. */
  onFrame: (connection: GatewayConnection, frame: Frame) => boolean = () => false;

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeGateway> {
    let gateway: FakeGateway | undefined;
    const server = new WebSocketServer({
      port: 0,
      verifyClient: (info, done) => {
        const token = new URL(info.req.url ?? '/', 'http://gateway').searchParams.get('token');
        gateway?.handshakes.push(token);
        if (gateway && gateway.refuse > 0) {
          gateway.refuse -= 1;
          done(false, 401, 'Unauthorized');
        } else done(true);
      },
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    gateway = new FakeGateway(server, `ws://127.0.0.1:${port}`);
    server.on('connection', (ws, req) => gateway?.accept(ws, req.url));
    return gateway;
  }

  private accept(ws: WebSocket, url: string | undefined): void {
    const index = this.connections.length + 1;
    const connection: GatewayConnection = {
      index,
      token: new URL(url ?? '/', 'http://gateway').searchParams.get('token'),
      ws,
      frames: [],
      send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    };
    this.connections.push(connection);
    this.log.push(`open ${index}`);
    ws.on('close', (code) => this.log.push(`close ${index} ${code}`));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      connection.frames.push(frame);
      this.log.push(`${String(frame.action)} ${index}`);
      if (this.onFrame(connection, frame)) return;
      if (frame.action === 'ping' && this.answerPings) connection.send({ type: 'pong' });
      if (frame.action === 'subscribe' || frame.action === 'unsubscribe') {
        const { requestId, topics } = frame;
        connection.send({ type: 'reply', requestId, ok: true, result: { topics } });
      }
    });
  }

  connection(index: number): GatewayConnection {
    const connection = this.connections[index - 1];
    if (!connection) throw new Error(`no connection ${index}`);
    return connection;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Harness {
  gateway: FakeGateway;
  client: HeraldClient;
  clock: ManualClock;
  events: ConnectionEvent[];
  notifications: Notification[];
  tokens: string[];
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Closes every client and gateway `setup` made, newest first. */
export async function closeHarnesses(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export async function setup(options: Partial<HeraldClientOptions> = {}): Promise<Harness> {
  const gateway = await FakeGateway.start();
  cleanups.push(() => gateway.close());
  const clock = new ManualClock();
  const tokens: string[] = [];
  const client = new HeraldClient({
    url: gateway.url,
    token: async () => {
      tokens.push(`tok-${tokens.length + 1}`);
      return tokens[tokens.length - 1] as string;
    },
    WebSocket,
    timers: clock,
    random: () => 0.5,
    pingIntervalMs: 600_000,
    requestTimeoutMs: 5_000,
    ...options,
  });
  cleanups.push(() => client.close());
  const events: ConnectionEvent[] = [];
  const notifications: Notification[] = [];
  client.on('connection', (event) => events.push(event));
  client.on('notification', (notification) => notifications.push(notification));
  return { gateway, client, clock, events, notifications, tokens };
}

export async function connected(harness: Harness, connections = 1): Promise<void> {
  harness.client.connect();
  await vi.waitFor(() => {
    expect(harness.client.connectionState).toBe('open');
    expect(harness.gateway.connections).toHaveLength(connections);
  });
}

export function notification(id: string): Notification {
  return {
    id,
    eventId: `evt-${id}`,
    type: 'demo.test',
    createdAt: '2025-01-01T00:00:00.000Z',
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
}

export const OLDER = '01JAAAAAAAAAAAAAAAAAAAAAAA';
export const NEWER = '01JBBBBBBBBBBBBBBBBBBBBBBB';
