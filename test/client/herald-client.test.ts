import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type ConnectionEvent,
  HeraldClient,
  type HeraldClientOptions,
  HeraldRequestError,
  type Notification,
  presenceTopic,
  type Timers,
} from '#client/herald-client';

/** Timers that only move when a test says so; `ws` I/O still runs on the real event loop. */
class ManualClock implements Timers {
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

type Frame = Record<string, unknown>;

interface GatewayConnection {
  index: number;
  token: string | null;
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
}

/** Stands in for API Gateway: a real `ws` server on port 0 that logs what it sees. */
class FakeGateway {
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

interface Harness {
  gateway: FakeGateway;
  client: HeraldClient;
  clock: ManualClock;
  events: ConnectionEvent[];
  notifications: Notification[];
  tokens: string[];
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<HeraldClientOptions> = {}): Promise<Harness> {
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

async function connected(harness: Harness, connections = 1): Promise<void> {
  harness.client.connect();
  await vi.waitFor(() => {
    expect(harness.client.connectionState).toBe('open');
    expect(harness.gateway.connections).toHaveLength(connections);
  });
}

function notification(id: string): Notification {
  return {
    id,
    eventId: `evt-${id}`,
    type: 'demo.test',
    createdAt: '2025-01-01T00:00:00.000Z',
    read: false,
  };
}

const OLDER = '01JAAAAAAAAAAAAAAAAAAAAAAA';
const NEWER = '01JBBBBBBBBBBBBBBBBBBBBBBB';

describe('HeraldClient', () => {
  it('connects with the token in the query string and dispatches frames by type', async () => {
    const harness = await setup({ token: 'static-token' });
    const states: { unread: number }[] = [];
    const errors: { code: string }[] = [];
    let pongs = 0;
    harness.client.on('state', (state) => states.push(state));
    harness.client.on('error', (error) => errors.push(error));
    harness.client.on('pong', () => {
      pongs += 1;
    });

    await connected(harness);
    const server = harness.gateway.connection(1);
    expect(server.token).toBe('static-token');
    expect(harness.events).toEqual([{ state: 'connecting', attempt: 0 }, { state: 'open' }]);

    server.send({ type: 'notification', notification: notification(NEWER) });
    server.send({ type: 'from-the-future', payload: 1 });
    server.send('not json');
    server.send({ type: 'notification', notification: notification(OLDER) });
    server.send({ type: 'notification', notification: notification(NEWER) });
    server.send({ type: 'state', unread: 2 });
    server.send({ type: 'error', error: { code: 'bad_frame', message: 'frame is not JSON' } });
    server.send({ type: 'pong' });
    await vi.waitFor(() => expect(pongs).toBe(1));

    expect(harness.notifications.map((n) => n.id)).toEqual([NEWER, OLDER]);
    expect(harness.notifications[0]).toEqual(notification(NEWER));
    expect(harness.client.lastNotificationId).toBe(NEWER);
    expect(states).toEqual([{ unread: 2 }]);
    expect(errors).toEqual([{ code: 'bad_frame', message: 'frame is not JSON' }]);
  });

  it('forgets the oldest ids beyond its limit', async () => {
    const harness = await setup({ recentIdsLimit: 2 });
    let pongs = 0;
    harness.client.on('pong', () => {
      pongs += 1;
    });
    await connected(harness);
    const server = harness.gateway.connection(1);
    for (const id of ['A1', 'A2', 'A3', 'A1', 'A3']) {
      server.send({ type: 'notification', notification: notification(id) });
    }
    server.send({ type: 'pong' });
    await vi.waitFor(() => expect(pongs).toBe(1));
    // A1 fell out of the two remembered ids when A3 arrived, so it passes again; A3 does not.
    expect(harness.notifications.map((n) => n.id)).toEqual(['A1', 'A2', 'A3', 'A1']);
  });

  it('matches replies to requests by requestId, answered out of order', async () => {
    const harness = await setup();
    const held: [GatewayConnection, Frame][] = [];
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'echo') return false;
      held.push([connection, frame]);
      if (held.length === 2) {
        for (const [c, f] of [...held].reverse()) {
          c.send({ type: 'reply', requestId: f.requestId, ok: true, result: { n: f.n } });
        }
      }
      return true;
    };
    await connected(harness);

    const [first, second] = await Promise.all([
      harness.client.request('echo', { n: 1 }),
      harness.client.request('echo', { n: 2 }),
    ]);
    expect(first).toEqual({ n: 1 });
    expect(second).toEqual({ n: 2 });
    const ids = held.map(([, frame]) => frame.requestId);
    expect(new Set(ids).size).toBe(2);
  });

  it('rejects with the server error code on ok:false and keeps refused topics out', async () => {
    const harness = await setup();
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'subscribe' || !String(frame.topics).startsWith('secret')) return false;
      const error = { code: 'forbidden', message: 'your token does not allow topic: secret.x' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);

    await harness.client.subscribe(['demo.a']);
    const refused = harness.client.subscribe(['secret.x']);
    await expect(refused).rejects.toBeInstanceOf(HeraldRequestError);
    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    expect(harness.client.subscriptions).toEqual(['demo.a']);
  });

  it('rejects a request on timeout, on a lost connection, and after close()', async () => {
    const harness = await setup();
    harness.gateway.onFrame = (_connection, frame) => frame.action === 'slow';
    await expect(harness.client.request('slow')).rejects.toMatchObject({ code: 'not_connected' });
    await connected(harness);

    const timedOut = harness.client.request('slow');
    await vi.waitFor(() => expect(harness.gateway.connection(1).frames).toHaveLength(1));
    harness.clock.advance(5_000);
    await expect(timedOut).rejects.toMatchObject({ code: 'timeout' });

    const lost = harness.client.request('slow');
    await vi.waitFor(() => expect(harness.gateway.connection(1).frames).toHaveLength(2));
    harness.gateway.connection(1).ws.terminate();
    await expect(lost).rejects.toMatchObject({ code: 'connection_closed' });

    // While reconnecting a request waits for the socket; close() ends the wait.
    const waiting = harness.client.request('slow');
    harness.client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'client_closed' });
  });

  it('reconnects with growing, jittered backoff, a fresh token and its topics', async () => {
    const jitter = [0.5, 0.25, 0.75, 0.5];
    const harness = await setup({ random: () => jitter.shift() ?? 0 });
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.gateway.refuse = 3;
    harness.gateway.connection(1).ws.terminate();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await vi.waitFor(() => {
        expect(harness.events.filter((e) => e.state === 'reconnecting')).toHaveLength(attempt);
      });
      const event = harness.events.at(-1);
      if (event?.state !== 'reconnecting')
        throw new Error(`expected reconnecting, got ${event?.state}`);
      expect(event.attempt).toBe(attempt);
      expect(event.cause).toBe(attempt === 1 ? 'closed' : 'handshake');
      expect(event.code).toBe(1006);
      delays.push(event.delayMs);
      harness.clock.advance(event.delayMs);
    }
    // Full jitter: random x min(max, 500 * 2^(attempt-1)).
    expect(delays).toEqual([0.5 * 500, 0.25 * 1_000, 0.75 * 2_000, 0.5 * 4_000]);

    await vi.waitFor(() => {
      expect(harness.client.connectionState).toBe('open');
      expect(harness.gateway.connection(2).frames.map((f) => f.action)).toEqual(['subscribe']);
    });
    expect(harness.tokens).toEqual(['tok-1', 'tok-2', 'tok-3', 'tok-4', 'tok-5']);
    expect(harness.gateway.handshakes).toEqual(harness.tokens);
    expect(harness.gateway.connection(2).token).toBe('tok-5');
    expect(harness.gateway.connection(2).frames[0]?.topics).toEqual(['demo.a']);

    harness.client.close();
    expect(harness.events.at(-1)).toEqual({ state: 'closed' });
    // No timer left means nothing can reconnect.
    expect(harness.clock.pending).toBe(0);
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 2 1000'));
    harness.clock.advance(3_600_000);
    expect(harness.gateway.handshakes).toHaveLength(5);
  });

  it('drops a topic the new token refuses after a reconnect, keeping the others', async () => {
    const harness = await setup();
    const errors: { code: string; message: string }[] = [];
    harness.client.on('error', (error) => errors.push(error));
    harness.gateway.onFrame = (connection, frame) => {
      const topics = frame.topics as string[] | undefined;
      if (connection.index === 1 || frame.action !== 'subscribe') return false;
      if (!topics?.includes('demo.secret')) return false;
      const error = { code: 'forbidden', message: 'your token does not allow topic: demo.secret' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);
    await harness.client.subscribe(['demo.secret']);

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(errors).toHaveLength(1));

    expect(harness.gateway.connection(2).frames.map((f) => f.topics)).toEqual([
      ['demo.a', 'demo.secret'],
      ['demo.a'],
      ['demo.secret'],
    ]);
    expect(harness.client.subscriptions).toEqual(['demo.a']);
    expect(errors[0]?.code).toBe('forbidden');
    expect(errors[0]?.message).toContain('demo.secret');
  });

  it('keeps backing off near the maximum while the handshake keeps failing', async () => {
    const harness = await setup({
      random: () => 0,
      backoff: { initialMs: 500, maxMs: 30_000, factor: 2, failuresBeforeMax: 3 },
    });
    harness.gateway.refuse = Number.POSITIVE_INFINITY;
    harness.client.connect();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await vi.waitFor(() => {
        expect(harness.events.filter((e) => e.state === 'reconnecting')).toHaveLength(attempt);
      });
      const event = harness.events.at(-1);
      if (event?.state !== 'reconnecting')
        throw new Error(`expected reconnecting, got ${event?.state}`);
      expect(event.cause).toBe('handshake');
      delays.push(event.delayMs);
      harness.clock.advance(event.delayMs);
    }
    // Zero jitter would retry at once forever; after 3 refusals the floor is half the max.
    expect(delays).toEqual([0, 0, 15_000, 15_000, 15_000]);
    expect(harness.gateway.connections).toHaveLength(0);
  });

  it('pings at the interval and reconnects when pings go unanswered', async () => {
    const harness = await setup({ pingIntervalMs: 60_000, requestTimeoutMs: 5_000 });
    let pongs = 0;
    harness.client.on('pong', () => {
      pongs += 1;
    });
    await connected(harness);
    const pings = () => harness.gateway.connection(1).frames.filter((f) => f.action === 'ping');

    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pongs).toBe(1));
    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pongs).toBe(2));
    expect(pings()).toEqual([{ action: 'ping' }, { action: 'ping' }]);

    harness.gateway.answerPings = false;
    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pings()).toHaveLength(3));
    harness.clock.advance(5_000);
    expect(harness.events.at(-1)).toMatchObject({ state: 'reconnecting', cause: 'ping-timeout' });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
  });

  it('opens the next socket before the maximum duration and closes the old one after', async () => {
    const harness = await setup({ maxConnectionMs: 100_000 });
    let heldSubscribe: Frame | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action === 'whoami') {
        const result = { index: connection.index };
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
        return true;
      }
      if (frame.action === 'subscribe' && connection.index === 2) {
        heldSubscribe = frame;
        return true;
      }
      return false;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.clock.advance(100_000);
    await vi.waitFor(() => expect(heldSubscribe?.topics).toEqual(['demo.a']));
    // Until the new socket is subscribed the old one still delivers; both carry this one.
    const overlap = { type: 'notification', notification: notification(NEWER) };
    harness.gateway.connection(1).send(overlap);
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(1));
    harness.gateway.connection(2).send(overlap);

    const requestId = heldSubscribe?.requestId;
    harness.gateway.connection(2).send({ type: 'reply', requestId, ok: true, result: {} });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
    expect(await harness.client.request('whoami')).toEqual({ index: 2 });
    expect(harness.gateway.log.filter((line) => !line.startsWith('whoami'))).toEqual([
      'open 1',
      'subscribe 1',
      'open 2',
      'subscribe 2',
      'close 1 1000',
    ]);
    expect(harness.notifications.map((n) => n.id)).toEqual([NEWER]);
    // The swap is invisible to listeners; only the token was fetched anew.
    expect(harness.events).toEqual([{ state: 'connecting', attempt: 0 }, { state: 'open' }]);
    expect(harness.tokens).toEqual(['tok-1', 'tok-2']);
  });

  it('carries (un)subscribes made during a rotation over to the new socket', async () => {
    const harness = await setup({ maxConnectionMs: 100_000 });
    let heldSubscribe: Frame | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'subscribe' || connection.index !== 2 || heldSubscribe) return false;
      heldSubscribe = frame;
      return true;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.clock.advance(100_000);
    await vi.waitFor(() => expect(heldSubscribe).toBeDefined());
    // Still answered on the old socket, after the new one was asked for the old topics.
    await harness.client.unsubscribe(['demo.a']);
    await harness.client.subscribe(['demo.b']);
    const requestId = heldSubscribe?.requestId;
    harness.gateway.connection(2).send({ type: 'reply', requestId, ok: true, result: {} });

    await vi.waitFor(() => expect(harness.gateway.connection(2).frames).toHaveLength(3));
    const frames = harness.gateway.connection(2).frames.map((f) => [f.action, f.topics]);
    expect(frames).toEqual([
      ['subscribe', ['demo.a']],
      ['subscribe', ['demo.b']],
      ['unsubscribe', ['demo.a']],
    ]);
    expect(harness.client.subscriptions).toEqual(['demo.b']);
  });

  it('closes a replaced socket only once the replies it owes have arrived', async () => {
    const harness = await setup({ maxConnectionMs: 100_000, requestTimeoutMs: 1_000_000 });
    const held: Frame[] = [];
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action === 'slow') {
        held.push(frame);
        return true;
      }
      if (frame.action === 'whoami') {
        const result = { index: connection.index };
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
        return true;
      }
      return false;
    };
    await connected(harness);
    const slow = harness.client.request('slow');
    await vi.waitFor(() => expect(held).toHaveLength(1));

    harness.clock.advance(100_000);
    // Requests move to the new socket once it is open (and subscribed).
    await vi.waitFor(async () => {
      expect(await harness.client.request('whoami')).toEqual({ index: 2 });
    });
    expect(harness.gateway.log.some((line) => line.startsWith('close 1'))).toBe(false);

    const requestId = held[0]?.requestId;
    harness.gateway.connection(1).send({ type: 'reply', requestId, ok: true, result: { n: 1 } });
    await expect(slow).resolves.toEqual({ n: 1 });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
  });

  it('after a reconnect re-subscribes, then resumes from the last id, in order and once each', async () => {
    const harness = await setup();
    const A = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const B = '01JBBBBBBBBBBBBBBBBBBBBBBB';
    const C = '01JCCCCCCCCCCCCCCCCCCCCCCC';
    const D = '01JDDDDDDDDDDDDDDDDDDDDDDD';
    let heldResume: [GatewayConnection, Frame] | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      heldResume = [connection, frame];
      return true;
    };
    const order: string[] = [];
    harness.client.on('notification', (n) => order.push(n.id));
    harness.client.on('resumed', ({ replayed }) => order.push(`resumed ${replayed}`));
    await connected(harness);
    await harness.client.subscribe(['demo.a']);
    harness.gateway.connection(1).send({ type: 'notification', notification: notification(A) });
    await vi.waitFor(() => expect(harness.client.lastNotificationId).toBe(A));

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(heldResume).toBeDefined());
    const [server, frame] = heldResume as [GatewayConnection, Frame];
    expect(server.frames.map((f) => f.action)).toEqual(['subscribe', 'resume']);
    expect(frame.since).toBe(A);

    // A live push overtakes the replay, and the replay repeats one already seen.
    server.send({ type: 'notification', notification: notification(D) });
    for (const id of [A, B, C])
      server.send({ type: 'notification', notification: notification(id) });
    server.send({
      type: 'reply',
      requestId: frame.requestId,
      ok: true,
      result: { replayed: 3, more: false, last: C },
    });
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(4));
    expect(harness.notifications.map((n) => n.id)).toEqual([A, B, C, D]);
    expect(harness.client.lastNotificationId).toBe(D);
    await vi.waitFor(() => expect(order).toEqual([A, B, C, D, 'resumed 3']));
  });

  it('resumes again from the last replayed id while the server says there is more', async () => {
    const harness = await setup();
    const since = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const pages: Record<string, { ids: string[]; more: boolean }> = {
      [since]: { ids: ['01JB0000000000000000000000', '01JB1111111111111111111111'], more: true },
      '01JB1111111111111111111111': { ids: ['01JC0000000000000000000000'], more: false },
    };
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      const page = pages[String(frame.since)];
      if (!page) throw new Error(`unexpected cursor ${String(frame.since)}`);
      // A live push lands between pages: it must not become the next cursor.
      connection.send({
        type: 'notification',
        notification: notification('01JZZZZZZZZZZZZZZZZZZZZZZZ'),
      });
      for (const id of page.ids)
        connection.send({ type: 'notification', notification: notification(id) });
      const result = { replayed: page.ids.length, more: page.more, last: page.ids.at(-1) };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
      return true;
    };
    await connected(harness);
    expect(await harness.client.resume(since)).toEqual({ replayed: 3 });
    expect(harness.gateway.connection(1).frames.map((f) => f.since)).toEqual([
      since,
      '01JB1111111111111111111111',
    ]);
    expect(harness.notifications.map((n) => n.id)).toEqual([
      '01JB0000000000000000000000',
      '01JB1111111111111111111111',
      '01JC0000000000000000000000',
      '01JZZZZZZZZZZZZZZZZZZZZZZZ',
    ]);
  });

  it('emits gap on resume_gap, forgets the cursor, and passes on what was held', async () => {
    const harness = await setup();
    const gaps: { code: string; message: string }[] = [];
    harness.client.on('gap', (gap) => gaps.push(gap));
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      connection.send({ type: 'notification', notification: notification(NEWER) });
      const error = { code: 'resume_gap', message: 'cannot resume: reload from the HTTP API' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);
    harness.gateway.connection(1).send({ type: 'notification', notification: notification(OLDER) });
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(1));

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(gaps).toHaveLength(1));
    expect(gaps[0]).toEqual({ code: 'resume_gap', message: expect.stringContaining('HTTP API') });
    await vi.waitFor(() => expect(harness.notifications.map((n) => n.id)).toEqual([OLDER, NEWER]));
    expect(harness.client.lastNotificationId).toBe(NEWER);
    await expect(harness.client.resume('01J0000000000000000000000X')).rejects.toMatchObject({
      code: 'resume_gap',
    });
    expect(gaps).toHaveLength(2);
  });

  it('does not resume on the first connection, nor without a notification seen', async () => {
    const harness = await setup();
    await connected(harness);
    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(harness.gateway.connections).toHaveLength(2));
    await harness.client.subscribe(['demo.a']);
    expect(await harness.client.resume()).toEqual({ replayed: 0 });
    const actions = harness.gateway.connections.flatMap((c) => c.frames.map((f) => f.action));
    expect(actions).toEqual(['subscribe']);
  });

  it('marks read, asks for state and presence, and dispatches presence frames', async () => {
    const harness = await setup();
    const states: { unread: number }[] = [];
    const presence: { user: string; online: boolean }[] = [];
    harness.client.on('state', (state) => states.push(state));
    harness.client.on('presence', (change) => presence.push(change));
    harness.gateway.onFrame = (connection, frame) => {
      const answer = (result: Record<string, unknown>) =>
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
      if (frame.action === 'markRead') answer({ unread: frame.all === true ? 0 : 4, notFound: [] });
      else if (frame.action === 'state') answer({ unread: 5 });
      else if (frame.action === 'presence')
        connection.send(
          `{"type":"reply","requestId":"${String(frame.requestId)}","ok":true,` +
            '"result":{"online":{"bob":true,"__proto__":false}}}',
        );
      else return false;
      return true;
    };
    await connected(harness);

    expect(await harness.client.markRead([NEWER])).toEqual({ unread: 4 });
    expect(await harness.client.markAllRead()).toEqual({ unread: 0 });
    expect(await harness.client.state()).toEqual({ unread: 5 });
    const online = await harness.client.presence(['bob', '__proto__']);
    expect(Object.keys(online)).toEqual(['bob', '__proto__']);
    expect(online.bob).toBe(true);
    expect(Object.getPrototypeOf(online)).toBe(Object.prototype);

    const sent = harness.gateway.connection(1).frames.map(({ requestId: _r, ...rest }) => rest);
    expect(sent).toEqual([
      { action: 'markRead', ids: [NEWER] },
      { action: 'markRead', all: true },
      { action: 'state' },
      { action: 'presence', users: ['bob', '__proto__'] },
    ]);
    expect(states).toEqual([{ unread: 5 }]);

    harness.gateway.connection(1).send({ type: 'presence', user: 'bob', online: false });
    harness.gateway.connection(1).send({ type: 'presence', user: 'bob' });
    harness.gateway.connection(1).send({ type: 'pong' });
    await vi.waitFor(() => expect(presence).toEqual([{ user: 'bob', online: false }]));
  });

  it('names presence topics only for user ids that are one topic token', () => {
    expect(presenceTopic('bob')).toBe('presence.bob');
    expect(presenceTopic('bob_1-x')).toBe('presence.bob_1-x');
    expect(presenceTopic('bob.smith')).toBeUndefined();
    expect(presenceTopic('bob@example.com')).toBeUndefined();
    expect(presenceTopic('')).toBeUndefined();
  });
});
