/**
 * Herald's browser client: one WebSocket kept alive across API Gateway's 10-minute idle and
 * 2-hour maximum limits, typed dispatch of server frames, request/reply over the socket,
 * de-duplicated notifications, and nothing missed across reconnects: after each one it
 * re-subscribes its topics, then resumes from the last notification id it saw. No
 * dependencies: it runs in browsers on the global `WebSocket`; the server contract is
 * imported for its types only.
 *
 * This class composes the parts, each in its own module: the reconnecting socket, the
 * request/reply table, the topic subscriptions, resume and de-duplication, and the emitter.
 */
import type { ErrorBody } from '../functions/core/frames';
import type { Notification } from '../functions/core/model';
import { type ChangeEvents, ChangeFeed } from './changes';
import { Emitter } from './emitter';
import { isErrorBody, isRecord, parseFrame } from './frames';
import { type FetchLike, HttpApi, TokenSource } from './http';
import { InboxApi, PreferencesApi } from './inbox-api';
import type { BackoffOptions } from './reconnect-backoff';
import {
  type ConnectionEvent,
  type ConnectionState,
  ReconnectingSocket,
  type Socket,
  type WebSocketConstructor,
} from './reconnecting-socket';
import { HeraldRequestError, type RequestResult, RequestTable } from './request-table';
import { type ResumeEvents, type ResumeOutcome, ResumeTracker } from './resume';
import { Subscriptions } from './subscriptions';
import { realTimers, type Timers } from './timers';
import { TokenRefresher } from './token-refresh';
import {
  EMPTY_STATE,
  type StateAccessor,
  stateAccessor,
  type UserState,
  userStateOf,
} from './user-state';

/** The topic of a user's presence changes (subscribe to it under a `presence.*` grant), shared with the server. */
export { presenceTopic } from '../functions/core/topics';
export type { ChangeEvent } from './changes';
export { type FetchLike, HeraldHttpError, type HttpOptions } from './http';
export {
  type BadgeCounts,
  type BulkAction,
  type BulkResult,
  type ChannelPreferences,
  type CountsResult,
  httpClient,
  InboxApi,
  type InboxFilter,
  type InboxNotification,
  type InboxPage,
  type ListOptions,
  type NotificationAction,
  type Preferences,
  PreferencesApi,
  type PreferencesView,
} from './inbox-api';
export type { BackoffOptions } from './reconnect-backoff';
export type {
  ConnectionCause,
  ConnectionEvent,
  ConnectionState,
  WebSocketConstructor,
  WebSocketLike,
} from './reconnecting-socket';
export { HeraldRequestError } from './request-table';
export type { ResumeOutcome } from './resume';
export type { Timers } from './timers';
export type { StateAccessor, StateValue, UserState } from './user-state';
export type { ErrorBody, Notification };

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
  /** The wall clock (ms), against which a token's `exp` is read; `Date.now` by default. */
  now?: () => number;
  /** The HTTP API's base URL, for `client.inbox` and `client.preferences`. */
  httpUrl?: string;
  /** For the HTTP API; the global `fetch` by default. */
  fetch?: FetchLike;
}

/** `notification`, `gap` and `resumed` are described in `ResumeEvents`, `change` in `ChangeEvents`. */
export interface HeraldClientEvents extends ResumeEvents, ChangeEvents {
  /** The user's whole state hash (app keys, `unread`, `unseen`): on connect and every change. */
  state: UserState;
  /** A watched user (topic `presence.<user>`) came online or went offline. */
  presence: { user: string; online: boolean };
  /**
   * A server `error` frame, a topic that could not be re-subscribed after a reconnect, or a
   * resume after a reconnect that failed for another reason than a gap.
   */
  error: ErrorBody;
  pong: undefined;
  connection: ConnectionEvent;
}

export const DEFAULTS = {
  pingIntervalMs: 5 * 60_000,
  maxConnectionMs: 115 * 60_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  backoff: { initialMs: 500, maxMs: 30_000, factor: 2, failuresBeforeMax: 5 } as BackoffOptions,
  recentIdsLimit: 1_000,
};

export class HeraldClient {
  private readonly events = new Emitter<HeraldClientEvents>();
  private readonly connection: ReconnectingSocket;
  private readonly requests: RequestTable;
  private readonly topics: Subscriptions;
  private readonly feed: ResumeTracker;
  private readonly changes: ChangeFeed;
  private readonly refresher: TokenRefresher | undefined;
  /** The token the last socket was opened with, for its refresh. */
  private lastToken: string | undefined;
  private lastState: UserState = EMPTY_STATE;
  private readonly tokens: TokenSource;
  /** The user's inbox over the HTTP API (needs the `httpUrl` option). */
  readonly inbox: InboxApi;
  /** The user's notification preferences over the HTTP API (needs the `httpUrl` option). */
  readonly preferences: PreferencesApi;

  constructor(options: HeraldClientOptions) {
    const url = new URL(options.url).toString();
    const WebSocketImpl =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor | undefined }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TypeError('no global WebSocket here: pass options.WebSocket');
    }
    const timers = options.timers ?? realTimers;
    const tokenOption = options.token;
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;

    this.connection = new ReconnectingSocket(
      {
        url,
        token: typeof tokenOption === 'string' ? tokenOption : () => this.fetchToken(tokenOption),
        WebSocket: WebSocketImpl,
        pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
        pongTimeoutMs: requestTimeoutMs,
        maxConnectionMs: options.maxConnectionMs ?? DEFAULTS.maxConnectionMs,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        backoff: { ...DEFAULTS.backoff, ...options.backoff },
        timers,
        random: options.random ?? Math.random,
      },
      {
        connection: (event) => this.events.emit('connection', event),
        message: (data) => this.receive(data),
        prepare: (socket) => this.topics.carryOver(socket),
        activated: (socket, rotation) => this.activated(socket, rotation),
        dropped: (socket) => this.requests.failOn(socket),
        owes: (socket) => this.requests.owes(socket),
      },
    );
    this.requests = new RequestTable({
      timers,
      timeoutMs: requestTimeoutMs,
      send: (socket, data) => this.connection.send(socket, data),
      settled: (socket) => this.connection.settled(socket),
    });
    this.topics = new Subscriptions({
      request: (action, args, socket) => this.requests.request(action, args, socket),
      isLive: (socket) => this.connection.isLive(socket),
      error: (error) => this.events.emit('error', error),
    });
    // Only a token callback can hand a fresh token; a fixed one ends with its socket.
    this.refresher =
      typeof tokenOption === 'string'
        ? undefined
        : new TokenRefresher({
            timers,
            now: options.now ?? Date.now,
            token: () => this.fetchToken(tokenOption),
            request: (action, args, socket) => this.requests.request(action, args, socket),
            isLive: (socket) => this.connection.isLive(socket),
            error: (error) => this.events.emit('error', error),
          });
    // Its own asks of the callback leave `lastToken` alone: that is the socket's token.
    this.tokens = new TokenSource(tokenOption, options.now);
    const http = new HttpApi(options, this.tokens);
    this.inbox = new InboxApi(http);
    this.preferences = new PreferencesApi(http);
    const recentIdsLimit = options.recentIdsLimit ?? DEFAULTS.recentIdsLimit;
    this.changes = new ChangeFeed(this.events, recentIdsLimit);
    this.feed = new ResumeTracker({
      request: (action, args) => this.request(action, { ...args }),
      events: this.events,
      recentIdsLimit,
      changeCursor: () => this.changes.lastId,
      changes: (changes) => this.changes.resumed(changes),
    });
  }

  get connectionState(): ConnectionState {
    return this.connection.state;
  }

  /** The newest notification id seen: the cursor for a later `resume`. */
  get lastNotificationId(): string | undefined {
    return this.feed.lastId;
  }

  /** The newest change id seen: the `changesSince` of the next resume. */
  get lastChangeId(): string | undefined {
    return this.changes.lastId;
  }

  /** Topics subscribed to; they are subscribed again after every reconnect. */
  get subscriptions(): string[] {
    return this.topics.list;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof HeraldClientEvents>(
    event: K,
    listener: (payload: HeraldClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof HeraldClientEvents>(
    event: K,
    listener: (payload: HeraldClientEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  /** Starts connecting, and keeps a connection until `close()`. Calling it again is a no-op. */
  connect(): void {
    this.connection.connect();
  }

  /** Closes for good: no reconnect; requests still waiting reject with `client_closed`. */
  close(): void {
    if (!this.connection.started) return;
    this.feed.stop();
    this.refresher?.stop();
    // Before the sockets go, so their requests end as `client_closed`, not `connection_closed`.
    this.requests.failAll(new HeraldRequestError('client_closed', 'the client was closed'));
    this.connection.close();
  }

  /**
   * Sends `{ action, requestId, ...args }` and resolves with the reply's `result`. While the
   * client is (re)connecting the request waits for the socket, within the same timeout.
   */
  request(action: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (!this.connection.started) {
      return Promise.reject(new HeraldRequestError('not_connected', 'call connect() first'));
    }
    return this.requests.request(action, args, this.connection.active);
  }

  async subscribe(topics: string[]): Promise<void> {
    await this.request('subscribe', { topics });
    this.topics.add(topics);
  }

  async unsubscribe(topics: string[]): Promise<void> {
    await this.request('unsubscribe', { topics });
    this.topics.remove(topics);
  }

  /**
   * Replays every notification after `since` (by default the last one seen): they are
   * emitted oldest first, and notifications pushed meanwhile are held and follow them, so
   * listeners see everything in order. The client does this by itself after a reconnect;
   * call it after reloading from the HTTP API on a `gap`. A refused cursor emits `gap` and
   * rejects with code `resume_gap`.
   */
  resume(since: string | undefined = this.feed.lastId): Promise<ResumeOutcome> {
    return this.feed.resume(since);
  }

  /** Marks notifications read; every connection of the user then gets the new `state`. */
  async markRead(ids: string[]): Promise<{ unread: number }> {
    return unreadOf(await this.request('markRead', { ids }));
  }

  async markAllRead(): Promise<{ unread: number }> {
    return unreadOf(await this.request('markRead', { all: true }));
  }

  /**
   * The last state the server sent (every socket gets it on connect, then on every change).
   * Calling it asks the server again; `state` listeners hear the answer too.
   */
  get state(): StateAccessor {
    return stateAccessor(this.lastState, () => this.refreshState());
  }

  /** Asks for the user's state; `state` listeners hear it too. */
  async refreshState(): Promise<UserState> {
    this.gotState(await this.request('state'));
    return this.lastState;
  }

  private gotState(value: Record<string, unknown>): void {
    const state = userStateOf(value);
    if (state === undefined) return;
    this.lastState = state;
    this.events.emit('state', state);
  }

  /** Which of these users (at most 100, in the caller's tenant, each under a `presence.*` grant) are online now. */
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

  /**
   * A socket became the active one. After a loss (not a rotation, which overlaps): topics
   * first, so the resume covers them too and nothing published meanwhile falls between the
   * two. Then requests that waited for a connection go out.
   */
  private activated(socket: Socket, rotation: boolean): void {
    if (!rotation) this.feed.connected(() => this.topics.restore(socket));
    this.refresher?.activated(socket, this.lastToken);
    this.requests.sendWaiting(socket);
  }

  private async fetchToken(get: () => string | Promise<string>): Promise<string> {
    const token = await get();
    this.lastToken = token;
    this.tokens.offer(token);
    return token;
  }

  private receive(data: unknown): void {
    const frame = parseFrame(data);
    if (frame === undefined) return;
    switch (frame.type) {
      case 'notification':
        this.feed.receive(frame.notification);
        return;
      case 'change':
        this.changes.receive(frame.change);
        return;
      case 'reply':
        this.requests.receiveReply(frame);
        return;
      case 'pong':
        if (typeof frame.requestId === 'string') this.requests.settle(frame.requestId, {});
        this.events.emit('pong', undefined);
        return;
      case 'state':
        this.gotState(frame);
        return;
      case 'presence':
        if (typeof frame.user === 'string' && typeof frame.online === 'boolean') {
          this.events.emit('presence', { user: frame.user, online: frame.online });
        }
        return;
      case 'error':
        if (isErrorBody(frame.error)) this.events.emit('error', frame.error);
        return;
      default:
      // Newer servers may send frame types this client does not know yet.
    }
  }
}

function unreadOf(result: RequestResult): { unread: number } {
  return { unread: typeof result.unread === 'number' ? result.unread : 0 };
}
