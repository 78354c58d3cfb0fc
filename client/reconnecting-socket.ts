/**
 * One WebSocket kept alive across API Gateway's limits: it opens with a fresh token, gives
 * up on a socket that does not open in time, pings below the 10-minute idle timeout (and
 * counts silence as a half-open socket), opens the next socket before the 2-hour cut, and
 * reconnects with backoff after any loss until `close()`.
 */
import { type BackoffOptions, reconnectDelay } from './reconnect-backoff';
import type { Timers } from './timers';

/** The part of the WebSocket API the client uses; browsers' `WebSocket` and `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Why a socket went away. `handshake`: closed before it ever opened (a 401 looks like this). */
export type ConnectionCause = 'closed' | 'handshake' | 'token' | 'connect-timeout' | 'ping-timeout';

export type ConnectionEvent =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | {
      state: 'reconnecting';
      attempt: number;
      delayMs: number;
      cause: ConnectionCause;
      /** The WebSocket close code, when the socket closed (1006 for a refused handshake). */
      code?: number;
    }
  | { state: 'closed' };

export type ConnectionState = 'idle' | ConnectionEvent['state'];

/** One socket of the connection; callers hold it only to say which socket they mean. */
export interface Socket {
  ws: WebSocketLike;
  /** candidate: opening; active: the one requests go to; retiring: replaced, draining. */
  role: 'candidate' | 'active' | 'retiring';
  opened: boolean;
  connectTimer?: unknown;
  pingTimer?: unknown;
  pongTimer?: unknown;
  rotateTimer?: unknown;
}

export interface ReconnectingSocketOptions {
  /** The URL without the token, which is added as the `token` query parameter. */
  url: string;
  /** A token, or a function asked for a fresh one before every (re)connect. */
  token: string | (() => string | Promise<string>);
  WebSocket: WebSocketConstructor;
  pingIntervalMs: number;
  /** How long a ping may wait for any frame back before the socket counts as lost. */
  pongTimeoutMs: number;
  maxConnectionMs: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  timers: Timers;
  random: () => number;
}

/** What the connection tells its owner, and asks of it. */
export interface ReconnectingSocketHooks {
  /** The state changed; a rotation (one socket replacing a working one) is not reported. */
  connection(event: ConnectionEvent): void;
  /** A frame arrived on a socket still in use. */
  message(data: unknown): void;
  /** A rotation's new socket opened: make it ready before the old one is let go. */
  prepare(socket: Socket): Promise<void>;
  /** `socket` is now the one requests go to; `rotation` when it replaced a working one. */
  activated(socket: Socket, rotation: boolean): void;
  /** `socket` was let go: what it owes cannot arrive any more. */
  dropped(socket: Socket): void;
  /** Whether replies are still due on `socket`: a replaced socket closes once none are. */
  owes(socket: Socket): boolean;
}

const OPEN = 1;
const CLOSING = 2;

export class ReconnectingSocket {
  private readonly sockets = new Set<Socket>();
  private activeSocket: Socket | undefined;
  private candidate: Socket | undefined;
  private status: ConnectionState = 'idle';
  private running = false;
  /** Bumped by `close()` so a token fetch still in flight cannot open a socket. */
  private epoch = 0;
  private attempt = 0;
  private failuresWithoutOpen = 0;
  private retryTimer: unknown;

  constructor(
    private readonly options: ReconnectingSocketOptions,
    private readonly hooks: ReconnectingSocketHooks,
  ) {}

  get state(): ConnectionState {
    return this.status;
  }

  /** Between `connect()` and `close()`. */
  get started(): boolean {
    return this.running;
  }

  /** The socket requests go to; undefined while (re)connecting. */
  get active(): Socket | undefined {
    return this.activeSocket;
  }

  /** Starts connecting, and keeps a connection until `close()`. Calling it again is a no-op. */
  connect(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.failuresWithoutOpen = 0;
    void this.open();
  }

  /** Closes for good: no reconnect, every socket closed. */
  close(): void {
    if (!this.running) return;
    this.running = false;
    this.epoch += 1;
    this.options.timers.clearTimeout(this.retryTimer);
    for (const socket of [...this.sockets]) this.drop(socket);
    this.activeSocket = undefined;
    this.candidate = undefined;
    this.setState({ state: 'closed' });
  }

  /** Puts `data` on `socket`; false when it cannot go out there (not open, or it threw). */
  send(socket: Socket, data: string): boolean {
    if (socket.ws.readyState !== OPEN) return false;
    try {
      socket.ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether `socket` is still in use (not dropped). */
  isLive(socket: Socket): boolean {
    return this.sockets.has(socket);
  }

  /** A reply due on `socket` arrived (or failed): a replaced socket may close now. */
  settled(socket: Socket): void {
    if (socket.role === 'retiring' && this.sockets.has(socket)) this.closeIfIdle(socket);
  }

  private async open(): Promise<void> {
    const { timers, token: tokenOption } = this.options;
    const epoch = this.epoch;
    // With an active socket this is a rotation, invisible to listeners.
    if (this.activeSocket === undefined) {
      this.setState({ state: 'connecting', attempt: this.attempt });
    }
    let token: string;
    try {
      token = typeof tokenOption === 'string' ? tokenOption : await tokenOption();
      if (typeof token !== 'string' || token === '') throw new TypeError('empty token');
    } catch {
      if (epoch === this.epoch) this.retry('token', undefined, true);
      return;
    }
    if (epoch !== this.epoch) return;

    const url = new URL(this.options.url);
    url.searchParams.set('token', token);
    let ws: WebSocketLike;
    try {
      ws = new this.options.WebSocket(url.toString());
    } catch {
      // Browsers throw here, e.g. for a ws:// URL from an https:// page.
      this.retry('handshake', undefined, true);
      return;
    }
    const socket: Socket = { ws, role: 'candidate', opened: false };
    this.sockets.add(socket);
    this.candidate = socket;
    socket.connectTimer = timers.setTimeout(
      () => this.lose(socket, 'connect-timeout'),
      this.options.connectTimeoutMs,
    );
    ws.addEventListener('open', () => void this.adopt(socket));
    ws.addEventListener('message', (event) => this.receive(socket, event.data));
    ws.addEventListener('close', (event) => this.lose(socket, 'closed', event.code));
    // A close event always follows; the listener also stops `ws` (Node) throwing on 'error'.
    ws.addEventListener('error', () => {});
  }

  /** A candidate socket opened: make it the active one, replacing the previous if any. */
  private async adopt(socket: Socket): Promise<void> {
    if (!this.sockets.has(socket)) return;
    socket.opened = true;
    this.options.timers.clearTimeout(socket.connectTimer);
    const previous = this.activeSocket;
    // Rotation: the new socket gets ready before the old one goes, so nothing is missed.
    if (previous !== undefined) await this.hooks.prepare(socket);
    if (!this.sockets.has(socket)) return;

    this.candidate = undefined;
    socket.role = 'active';
    this.activeSocket = socket;
    this.attempt = 0;
    this.failuresWithoutOpen = 0;
    this.schedulePing(socket);
    socket.rotateTimer = this.options.timers.setTimeout(
      () => this.rotate(socket),
      this.options.maxConnectionMs,
    );
    if (this.status !== 'open') this.setState({ state: 'open' });
    this.hooks.activated(socket, previous !== undefined);
    if (previous !== undefined && this.sockets.has(previous)) this.retire(previous);
  }

  /** Opens the next socket before API Gateway's 2-hour cut ends this one. */
  private rotate(socket: Socket): void {
    if (this.activeSocket !== socket || this.candidate !== undefined) return;
    void this.open();
  }

  private retire(socket: Socket): void {
    socket.role = 'retiring';
    this.clearSocketTimers(socket);
    this.closeIfIdle(socket);
  }

  /** A retiring socket closes once the replies it still owes have arrived (or timed out). */
  private closeIfIdle(socket: Socket): void {
    if (!this.hooks.owes(socket)) this.drop(socket);
  }

  private schedulePing(socket: Socket): void {
    const { timers } = this.options;
    socket.pingTimer = timers.setTimeout(() => {
      if (this.activeSocket !== socket) return;
      this.send(socket, JSON.stringify({ action: 'ping' }));
      // Any frame counts as an answer; silence means a half-open socket the browser missed.
      socket.pongTimer ??= timers.setTimeout(
        () => this.lose(socket, 'ping-timeout'),
        this.options.pongTimeoutMs,
      );
      this.schedulePing(socket);
    }, this.options.pingIntervalMs);
  }

  private receive(socket: Socket, data: unknown): void {
    if (!this.sockets.has(socket)) return;
    this.options.timers.clearTimeout(socket.pongTimer);
    socket.pongTimer = undefined;
    this.hooks.message(data);
  }

  /** A socket went away (closed, or given up on): clean up and decide what comes next. */
  private lose(socket: Socket, cause: ConnectionCause, code?: number): void {
    if (!this.sockets.has(socket)) return;
    const { role, opened } = socket;
    this.drop(socket);
    if (role === 'retiring') return;
    if (role === 'candidate') {
      this.candidate = undefined;
      this.retry(!opened && cause === 'closed' ? 'handshake' : cause, code, !opened);
      return;
    }
    this.activeSocket = undefined;
    // A rotation's new socket is already on its way: wait for it rather than open a third.
    if (this.candidate !== undefined) {
      this.setState({ state: 'connecting', attempt: this.attempt });
      return;
    }
    this.retry(cause, code, false);
  }

  private retry(cause: ConnectionCause, code: number | undefined, neverOpened: boolean): void {
    if (!this.running) return;
    const { timers, backoff, random } = this.options;
    this.attempt += 1;
    if (neverOpened) this.failuresWithoutOpen += 1;
    const delayMs = reconnectDelay(
      { attempt: this.attempt, failuresWithoutOpen: this.failuresWithoutOpen },
      backoff,
      random,
    );
    timers.clearTimeout(this.retryTimer);
    this.retryTimer = timers.setTimeout(() => void this.open(), delayMs);
    // A failed rotation leaves the active socket working: nothing to report.
    if (this.activeSocket !== undefined) return;
    const event: ConnectionEvent = { state: 'reconnecting', attempt: this.attempt, delayMs, cause };
    if (code !== undefined) event.code = code;
    this.setState(event);
  }

  /** Forgets a socket: its timers stop, what it owes fails, and it is closed if still up. */
  private drop(socket: Socket): void {
    this.sockets.delete(socket);
    this.clearSocketTimers(socket);
    this.options.timers.clearTimeout(socket.connectTimer);
    this.hooks.dropped(socket);
    if (socket.ws.readyState < CLOSING) socket.ws.close(1000);
  }

  private clearSocketTimers(socket: Socket): void {
    const { timers } = this.options;
    timers.clearTimeout(socket.pingTimer);
    timers.clearTimeout(socket.pongTimer);
    timers.clearTimeout(socket.rotateTimer);
    socket.pongTimer = undefined;
  }

  private setState(event: ConnectionEvent): void {
    this.status = event.state;
    this.hooks.connection(event);
  }
}
