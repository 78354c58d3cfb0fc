/**
 * Herald's browser client: one WebSocket kept alive across API Gateway's 10-minute idle and
 * 2-hour maximum limits, typed dispatch of server frames, request/reply over the socket,
 * de-duplicated notifications, and nothing missed across reconnects: after each one it
 * re-subscribes its topics, then resumes from the last notification id it saw. No
 * dependencies: it runs in browsers on the global `WebSocket`; the server contract is
 * imported for its types only.
 */
import type { ErrorBody } from '#core/frames';
import type { Notification } from '#core/model';

/** The topic of a user's presence changes (subscribe to it under a `presence.*` grant), shared with the server. */
export { presenceTopic } from '#core/topics';
export type { ErrorBody, Notification };

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

/** Timer functions, injectable so tests decide when time passes. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** After this many attempts in a row that never opened (e.g. a 401), wait near `maxMs`. */
  failuresBeforeMax: number;
}

export interface HeraldClientOptions {
  /** `wss://<api>/<stage>`; the token is added as the `token` query parameter. */
  url: string;
  /** A token, or a function asked for a fresh one before every (re)connect. */
  token: string | (() => string | Promise<string>);
  WebSocket?: WebSocketConstructor;
  /** Below API Gateway's 10-minute idle timeout. */
  pingIntervalMs?: number;
  /** Below API Gateway's 2-hour connection limit: a new socket replaces the old one then. */
  maxConnectionMs?: number;
  /** How long a socket may take to open before the attempt counts as failed. */
  connectTimeoutMs?: number;
  /** How long a request (and a ping) may wait for its answer. */
  requestTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** How many recent notification ids are remembered to drop duplicates. */
  recentIdsLimit?: number;
  timers?: Timers;
  /** Returns a number in [0, 1); drives the backoff jitter. */
  random?: () => number;
}

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

export interface HeraldClientEvents {
  notification: Notification;
  /** The server's view of the user's state, e.g. the unread count. */
  state: { unread: number };
  /**
   * A resume was refused (`resume_gap`): what was missed cannot be replayed (the cursor is
   * older than the retention, or unknown). Reload from the HTTP API (`GET /notifications`),
   * then call `resume(newestIdFromThatList)` to catch up on anything since.
   */
  gap: ErrorBody;
  /** A resume finished and everything it brought has been emitted: the client caught up. */
  resumed: ResumeOutcome;
  /** A watched user (topic `presence.<user>`) came online or went offline. */
  presence: { user: string; online: boolean };
  /** A server `error` frame, or a topic that could not be re-subscribed after a reconnect. */
  error: ErrorBody;
  pong: undefined;
  connection: ConnectionEvent;
}

type Listener<K extends keyof HeraldClientEvents> = (payload: HeraldClientEvents[K]) => void;

/**
 * A request that failed. `code` is the server's error code, or one of the client's own:
 * `timeout`, `connection_closed` (the socket closed before the reply), `client_closed`
 * (`close()` was called), `not_connected` (`connect()` was never called).
 */
export class HeraldRequestError extends Error {
  override name = 'HeraldRequestError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULTS = {
  pingIntervalMs: 5 * 60_000,
  maxConnectionMs: 115 * 60_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  backoff: { initialMs: 500, maxMs: 30_000, factor: 2, failuresBeforeMax: 5 } as BackoffOptions,
  recentIdsLimit: 1_000,
};

/** The server accepts at most this many topics per subscribe frame. */
const MAX_TOPICS_PER_REQUEST = 20;
/** Resumes in a row (each replays up to the server's cap) before the client stops asking. */
const MAX_RESUME_ROUNDS = 20;
const RESUME_GAP = 'resume_gap';
/** Codes after which there is nothing to report: the next connection resumes again. */
const QUIET_RESUME_FAILURES = new Set(['connection_closed', 'client_closed', 'not_connected']);

export interface ResumeOutcome {
  /** Notifications the server replayed (duplicates of ones already seen are not emitted). */
  replayed: number;
}
const OPEN = 1;
const CLOSING = 2;
/** Codes with which the server refuses topics for good: no point asking again. */
const REFUSALS = new Set(['forbidden', 'bad_request']);

interface Socket {
  ws: WebSocketLike;
  /** candidate: opening; active: the one requests go to; retiring: replaced, draining. */
  role: 'candidate' | 'active' | 'retiring';
  opened: boolean;
  connectTimer?: unknown;
  pingTimer?: unknown;
  pongTimer?: unknown;
  rotateTimer?: unknown;
}

interface Pending {
  requestId: string;
  action: string;
  frame: string;
  /** The socket the frame went out on; undefined while it waits for a connection. */
  socket?: Socket;
  timer: unknown;
  resolve(result: Record<string, unknown>): void;
  reject(error: HeraldRequestError): void;
}

const realTimers: Timers = {
  // Looked up at call time and called unbound: browsers reject `this` other than window.
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class HeraldClient {
  private readonly url: string;
  private readonly token: HeraldClientOptions['token'];
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly pingIntervalMs: number;
  private readonly maxConnectionMs: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly recentIdsLimit: number;
  private readonly timers: Timers;
  private readonly random: () => number;

  private readonly listeners = new Map<keyof HeraldClientEvents, Set<Listener<never>>>();
  private readonly sockets = new Set<Socket>();
  private active: Socket | undefined;
  private candidate: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly topics = new Set<string>();
  private readonly recentIds = new Set<string>();
  private newestId: string | undefined;
  /** Notifications held back while a resume runs, to be emitted in id order after it. */
  private held: Record<string, unknown>[] | undefined;
  private resuming: Promise<ResumeOutcome> | undefined;
  private status: ConnectionState = 'idle';
  private started = false;
  /** Bumped by `close()` so a token fetch still in flight cannot open a socket. */
  private epoch = 0;
  private attempt = 0;
  private failuresWithoutOpen = 0;
  private retryTimer: unknown;
  private requestCount = 0;

  constructor(options: HeraldClientOptions) {
    this.url = new URL(options.url).toString();
    this.token = options.token;
    const WebSocketImpl =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor | undefined }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TypeError('no global WebSocket here: pass options.WebSocket');
    }
    this.WebSocketImpl = WebSocketImpl;
    this.pingIntervalMs = options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
    this.maxConnectionMs = options.maxConnectionMs ?? DEFAULTS.maxConnectionMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.backoff = { ...DEFAULTS.backoff, ...options.backoff };
    this.recentIdsLimit = options.recentIdsLimit ?? DEFAULTS.recentIdsLimit;
    this.timers = options.timers ?? realTimers;
    this.random = options.random ?? Math.random;
  }

  get connectionState(): ConnectionState {
    return this.status;
  }

  /** The newest notification id seen: the cursor for a later `resume`. */
  get lastNotificationId(): string | undefined {
    return this.newestId;
  }

  /** Topics subscribed to; they are subscribed again after every reconnect. */
  get subscriptions(): string[] {
    return [...this.topics];
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof HeraldClientEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof HeraldClientEvents>(event: K, listener: Listener<K>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Starts connecting, and keeps a connection until `close()`. Calling it again is a no-op. */
  connect(): void {
    if (this.started) return;
    this.started = true;
    this.attempt = 0;
    this.failuresWithoutOpen = 0;
    void this.open();
  }

  /** Closes for good: no reconnect; requests still waiting reject with `client_closed`. */
  close(): void {
    if (!this.started) return;
    this.started = false;
    this.epoch += 1;
    this.held = undefined;
    this.timers.clearTimeout(this.retryTimer);
    for (const requestId of [...this.pending.keys()]) {
      this.settle(requestId, new HeraldRequestError('client_closed', 'the client was closed'));
    }
    for (const socket of [...this.sockets]) this.drop(socket);
    this.active = undefined;
    this.candidate = undefined;
    this.setState({ state: 'closed' });
  }

  /**
   * Sends `{ action, requestId, ...args }` and resolves with the reply's `result`. While the
   * client is (re)connecting the request waits for the socket, within the same timeout.
   */
  request(action: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (!this.started) {
      return Promise.reject(new HeraldRequestError('not_connected', 'call connect() first'));
    }
    this.requestCount += 1;
    const requestId = `r${this.requestCount}`;
    return this.track(requestId, action, { ...args, action, requestId }, this.active);
  }

  async subscribe(topics: string[]): Promise<void> {
    await this.request('subscribe', { topics });
    for (const topic of topics) this.topics.add(topic);
  }

  async unsubscribe(topics: string[]): Promise<void> {
    await this.request('unsubscribe', { topics });
    for (const topic of topics) this.topics.delete(topic);
  }

  /**
   * Replays every notification after `since` (by default the last one seen): they are
   * emitted oldest first, and notifications pushed meanwhile are held and follow them, so
   * listeners see everything in order. The client does this by itself after a reconnect;
   * call it after reloading from the HTTP API on a `gap`. A refused cursor emits `gap` and
   * rejects with code `resume_gap`.
   */
  resume(since: string | undefined = this.newestId): Promise<ResumeOutcome> {
    if (since === undefined) return Promise.resolve({ replayed: 0 });
    this.held ??= [];
    this.resuming ??= this.replay(since)
      .finally(() => {
        this.resuming = undefined;
        this.release();
      })
      .then((outcome) => {
        this.emit('resumed', outcome);
        return outcome;
      });
    return this.resuming;
  }

  /** Marks notifications read; every connection of the user then gets the new `state`. */
  async markRead(ids: string[]): Promise<{ unread: number }> {
    return unreadOf(await this.request('markRead', { ids }));
  }

  async markAllRead(): Promise<{ unread: number }> {
    return unreadOf(await this.request('markRead', { all: true }));
  }

  /** Asks for the user's state (Notify's state on connect); `state` listeners hear it too. */
  async state(): Promise<{ unread: number }> {
    const state = unreadOf(await this.request('state'));
    this.emit('state', state);
    return state;
  }

  /** Which of these users (at most 100, in the caller's tenant) are online now. */
  async presence(users: string[]): Promise<Record<string, boolean>> {
    const { online } = await this.request('presence', { users });
    const result: Record<string, boolean> = {};
    if (isRecord(online)) {
      for (const [user, value] of Object.entries(online)) {
        Object.defineProperty(result, user, { value: value === true, enumerable: true });
      }
    }
    return result;
  }

  private async open(): Promise<void> {
    const epoch = this.epoch;
    // With an active socket this is a rotation, invisible to listeners.
    if (this.active === undefined) this.setState({ state: 'connecting', attempt: this.attempt });
    let token: string;
    try {
      token = typeof this.token === 'string' ? this.token : await this.token();
      if (typeof token !== 'string' || token === '') throw new TypeError('empty token');
    } catch {
      if (epoch === this.epoch) this.retry('token', undefined, true);
      return;
    }
    if (epoch !== this.epoch) return;

    const url = new URL(this.url);
    url.searchParams.set('token', token);
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(url.toString());
    } catch {
      // Browsers throw here, e.g. for a ws:// URL from an https:// page.
      this.retry('handshake', undefined, true);
      return;
    }
    const socket: Socket = { ws, role: 'candidate', opened: false };
    this.sockets.add(socket);
    this.candidate = socket;
    socket.connectTimer = this.timers.setTimeout(
      () => this.lose(socket, 'connect-timeout'),
      this.connectTimeoutMs,
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
    this.timers.clearTimeout(socket.connectTimer);
    const previous = this.active;
    // Rotation: subscribe on the new socket before letting the old one go, so nothing is missed.
    const restored = previous === undefined ? [] : await this.restoreTopics(socket);
    if (!this.sockets.has(socket)) return;
    if (previous !== undefined) this.reconcileTopics(socket, restored);

    this.candidate = undefined;
    socket.role = 'active';
    this.active = socket;
    this.attempt = 0;
    this.failuresWithoutOpen = 0;
    this.schedulePing(socket);
    socket.rotateTimer = this.timers.setTimeout(() => this.rotate(socket), this.maxConnectionMs);
    if (this.status !== 'open') this.setState({ state: 'open' });
    // After a loss (not a rotation, which overlaps): topics first, so the resume covers
    // them too and nothing published meanwhile falls between the two. The cursor is taken
    // now and pushes are held from now, before any frame of this socket can move it.
    if (previous === undefined) {
      const since = this.newestId;
      if (since !== undefined) this.held ??= [];
      void this.restoreTopics(socket).then(() => this.resumeAfterReconnect(since));
    }
    for (const entry of this.pending.values()) {
      if (entry.socket === undefined) this.send(entry, socket);
    }
    if (previous !== undefined && this.sockets.has(previous)) this.retire(previous);
  }

  /** Opens the next socket before API Gateway's 2-hour cut ends this one. */
  private rotate(socket: Socket): void {
    if (this.active !== socket || this.candidate !== undefined) return;
    void this.open();
  }

  private retire(socket: Socket): void {
    socket.role = 'retiring';
    this.clearSocketTimers(socket);
    this.closeIfIdle(socket);
  }

  /** A retiring socket closes once the replies it still owes have arrived (or timed out). */
  private closeIfIdle(socket: Socket): void {
    for (const entry of this.pending.values()) if (entry.socket === socket) return;
    this.drop(socket);
  }

  private schedulePing(socket: Socket): void {
    socket.pingTimer = this.timers.setTimeout(() => {
      if (this.active !== socket) return;
      this.sendRaw(socket, JSON.stringify({ action: 'ping' }));
      // Any frame counts as an answer; silence means a half-open socket the browser missed.
      socket.pongTimer ??= this.timers.setTimeout(
        () => this.lose(socket, 'ping-timeout'),
        this.requestTimeoutMs,
      );
      this.schedulePing(socket);
    }, this.pingIntervalMs);
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
    this.active = undefined;
    // A rotation's new socket is already on its way: wait for it rather than open a third.
    if (this.candidate !== undefined) {
      this.setState({ state: 'connecting', attempt: this.attempt });
      return;
    }
    this.retry(cause, code, false);
  }

  private retry(cause: ConnectionCause, code: number | undefined, neverOpened: boolean): void {
    if (!this.started) return;
    this.attempt += 1;
    if (neverOpened) this.failuresWithoutOpen += 1;
    const delayMs = this.backoffDelay();
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => void this.open(), delayMs);
    // A failed rotation leaves the active socket working: nothing to report.
    if (this.active !== undefined) return;
    const event: ConnectionEvent = { state: 'reconnecting', attempt: this.attempt, delayMs, cause };
    if (code !== undefined) event.code = code;
    this.setState(event);
  }

  /** Exponential backoff with full jitter; near the maximum once the handshake keeps failing. */
  private backoffDelay(): number {
    const { initialMs, maxMs, factor, failuresBeforeMax } = this.backoff;
    if (this.failuresWithoutOpen >= failuresBeforeMax) {
      return Math.floor(maxMs / 2 + (this.random() * maxMs) / 2);
    }
    const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, this.attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  /** Forgets a socket: its timers stop, requests it owes reject, and it is closed if still up. */
  private drop(socket: Socket): void {
    this.sockets.delete(socket);
    this.clearSocketTimers(socket);
    this.timers.clearTimeout(socket.connectTimer);
    for (const entry of [...this.pending.values()]) {
      if (entry.socket !== socket) continue;
      const message = `the connection closed before "${entry.action}" was answered`;
      this.settle(entry.requestId, new HeraldRequestError('connection_closed', message));
    }
    if (socket.ws.readyState < CLOSING) socket.ws.close(1000);
  }

  private clearSocketTimers(socket: Socket): void {
    this.timers.clearTimeout(socket.pingTimer);
    this.timers.clearTimeout(socket.pongTimer);
    this.timers.clearTimeout(socket.rotateTimer);
    socket.pongTimer = undefined;
  }

  /** Subscribes a new socket to the current topics; returns the topics it asked for. */
  private async restoreTopics(socket: Socket): Promise<string[]> {
    const topics = [...this.topics];
    await this.syncTopics(socket, 'subscribe', topics);
    return topics;
  }

  /** Applies (un)subscribes confirmed on the old socket while the new one was restoring. */
  private reconcileTopics(socket: Socket, restored: string[]): void {
    const added = [...this.topics].filter((topic) => !restored.includes(topic));
    const dropped = restored.filter((topic) => !this.topics.has(topic));
    void this.syncTopics(socket, 'subscribe', added);
    void this.syncTopics(socket, 'unsubscribe', dropped);
  }

  /** Sends the client's own (un)subscribes, in chunks the server accepts; reports failures. */
  private async syncTopics(
    socket: Socket,
    action: 'subscribe' | 'unsubscribe',
    topics: string[],
    chunkSize = MAX_TOPICS_PER_REQUEST,
  ): Promise<void> {
    const requests: Promise<void>[] = [];
    for (let start = 0; start < topics.length; start += chunkSize) {
      const chunk = topics.slice(start, start + chunkSize);
      this.requestCount += 1;
      const requestId = `r${this.requestCount}`;
      const frame = { action, requestId, topics: chunk };
      const request = this.track(requestId, action, frame, socket).then(
        () => undefined,
        (error: HeraldRequestError): Promise<void> | undefined => {
          const refused = action === 'subscribe' && REFUSALS.has(error.code);
          // One refused topic fails its whole frame: ask one at a time to keep the others.
          if (refused && chunk.length > 1) return this.syncTopics(socket, action, chunk, 1);
          if (refused) for (const topic of chunk) this.topics.delete(topic);
          const message = `could not ${action} ${chunk.join(', ')} again: ${error.message}`;
          this.emit('error', { code: error.code, message });
          return undefined;
        },
      );
      requests.push(request);
    }
    await Promise.all(requests);
  }

  private track(
    requestId: string,
    action: string,
    frame: Record<string, unknown>,
    socket: Socket | undefined,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        const message = `no reply to "${action}" within ${this.requestTimeoutMs} ms`;
        this.settle(requestId, new HeraldRequestError('timeout', message));
      }, this.requestTimeoutMs);
      const data = JSON.stringify(frame);
      const entry: Pending = { requestId, action, frame: data, timer, resolve, reject };
      this.pending.set(requestId, entry);
      if (socket !== undefined) this.send(entry, socket);
    });
  }

  private send(entry: Pending, socket: Socket): void {
    entry.socket = socket;
    if (!this.sendRaw(socket, entry.frame)) {
      // The socket is going away; its close will arrive, but the answer never will.
      const error = new HeraldRequestError('connection_closed', 'the connection is closing');
      this.settle(entry.requestId, error);
    }
  }

  private sendRaw(socket: Socket, data: string): boolean {
    if (socket.ws.readyState !== OPEN) return false;
    try {
      socket.ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  private settle(requestId: string, outcome: Record<string, unknown> | HeraldRequestError): void {
    const entry = this.pending.get(requestId);
    if (entry === undefined) return;
    this.pending.delete(requestId);
    this.timers.clearTimeout(entry.timer);
    if (outcome instanceof HeraldRequestError) entry.reject(outcome);
    else entry.resolve(outcome);
    if (entry.socket?.role === 'retiring' && this.sockets.has(entry.socket)) {
      this.closeIfIdle(entry.socket);
    }
  }

  private receive(socket: Socket, data: unknown): void {
    if (!this.sockets.has(socket)) return;
    this.timers.clearTimeout(socket.pongTimer);
    socket.pongTimer = undefined;
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(frame)) return;
    switch (frame.type) {
      case 'notification':
        this.receiveNotification(frame.notification);
        return;
      case 'reply':
        this.receiveReply(frame);
        return;
      case 'pong':
        if (typeof frame.requestId === 'string') this.settle(frame.requestId, {});
        this.emit('pong', undefined);
        return;
      case 'state':
        if (typeof frame.unread === 'number') this.emit('state', { unread: frame.unread });
        return;
      case 'presence':
        if (typeof frame.user === 'string' && typeof frame.online === 'boolean') {
          this.emit('presence', { user: frame.user, online: frame.online });
        }
        return;
      case 'error':
        if (isErrorBody(frame.error)) this.emit('error', frame.error);
        return;
      default:
      // Newer servers may send frame types this client does not know yet.
    }
  }

  private async replay(since: string): Promise<ResumeOutcome> {
    let cursor = since;
    let replayed = 0;
    for (let round = 0; round < MAX_RESUME_ROUNDS; round++) {
      let result: Record<string, unknown>;
      try {
        result = await this.request('resume', { since: cursor });
      } catch (error) {
        if (error instanceof HeraldRequestError && error.code === RESUME_GAP) {
          // An unusable cursor would be refused again after every reconnect.
          if (this.newestId === since) this.newestId = undefined;
          this.emit('gap', { code: error.code, message: error.message });
        }
        throw error;
      }
      if (typeof result.replayed === 'number') replayed += result.replayed;
      if (result.more !== true || typeof result.last !== 'string') break;
      cursor = result.last;
    }
    return { replayed };
  }

  private async resumeAfterReconnect(since: string | undefined): Promise<void> {
    if (since === undefined) {
      this.release();
      return;
    }
    try {
      await this.resume(since);
    } catch (error) {
      const { code, message } =
        error instanceof HeraldRequestError ? error : { code: 'unknown', message: String(error) };
      // A gap has its own event; a lost socket resumes again on the next one.
      if (code !== RESUME_GAP && !QUIET_RESUME_FAILURES.has(code)) {
        this.emit('error', { code, message: `could not resume: ${message}` });
      }
    }
  }

  /** Emits what was held during a resume, oldest first. */
  private release(): void {
    if (this.resuming !== undefined) return;
    const held = this.held ?? [];
    this.held = undefined;
    held.sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    for (const notification of held) this.receiveNotification(notification);
  }

  private receiveNotification(notification: unknown): void {
    if (!isRecord(notification) || typeof notification.id !== 'string') return;
    if (this.held !== undefined) {
      this.held.push(notification);
      return;
    }
    const { id } = notification;
    // The fan-out may push twice after a retry, and a rotation briefly has two sockets.
    if (this.recentIds.has(id)) return;
    this.recentIds.add(id);
    if (this.recentIds.size > this.recentIdsLimit) {
      const oldest = this.recentIds.values().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
    if (this.newestId === undefined || id > this.newestId) this.newestId = id;
    this.emit('notification', notification as unknown as Notification);
  }

  private receiveReply(frame: Record<string, unknown>): void {
    if (typeof frame.requestId !== 'string') return;
    if (frame.ok === true) {
      this.settle(frame.requestId, isRecord(frame.result) ? frame.result : {});
      return;
    }
    const error = isErrorBody(frame.error)
      ? frame.error
      : { code: 'unknown', message: 'request failed' };
    this.settle(frame.requestId, new HeraldRequestError(error.code, error.message));
  }

  private setState(event: ConnectionEvent): void {
    this.status = event.state;
    this.emit('connection', event);
  }

  private emit<K extends keyof HeraldClientEvents>(event: K, payload: HeraldClientEvents[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<K>)(payload);
      } catch (error) {
        // A failing listener must not break the connection; surface it without catching it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

function unreadOf(result: Record<string, unknown>): { unread: number } {
  return { unread: typeof result.unread === 'number' ? result.unread : 0 };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrorBody(value: unknown): value is ErrorBody {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string';
}
