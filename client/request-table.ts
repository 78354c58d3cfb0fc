/**
 * Request/reply over the socket: each request frame carries a `requestId`, and the reply
 * that names it settles that request's promise. A request ends as well on its timeout, when
 * the socket it went out on goes away, or when the client is closed.
 */
import { isErrorBody, isRecord } from './frames';
import type { Socket } from './reconnecting-socket';
import type { Timers } from './timers';

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

export type RequestResult = Record<string, unknown>;

interface Pending {
  requestId: string;
  action: string;
  frame: string;
  /** The socket the frame went out on; undefined while it waits for a connection. */
  socket?: Socket;
  timer: unknown;
  resolve(result: RequestResult): void;
  reject(error: HeraldRequestError): void;
}

export interface RequestTableOptions {
  timers: Timers;
  /** How long a request may wait for its reply, time spent waiting for a socket included. */
  timeoutMs: number;
  /** Puts a frame on a socket; false when it cannot go out there (the socket is closing). */
  send(socket: Socket, data: string): boolean;
  /** A request that went out on `socket` was answered, failed or timed out. */
  settled(socket: Socket): void;
}

export class RequestTable {
  private readonly pending = new Map<string, Pending>();
  private requestCount = 0;

  constructor(private readonly options: RequestTableOptions) {}

  /**
   * Sends `{ ...args, action, requestId }` on `socket` and resolves with the reply's
   * `result`. Without a socket the request waits for `sendWaiting`, within the same timeout.
   */
  request(action: string, args: Record<string, unknown>, socket?: Socket): Promise<RequestResult> {
    this.requestCount += 1;
    const requestId = `r${this.requestCount}`;
    const { timers, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        const message = `no reply to "${action}" within ${timeoutMs} ms`;
        this.settle(requestId, new HeraldRequestError('timeout', message));
      }, timeoutMs);
      const frame = JSON.stringify({ ...args, action, requestId });
      const entry: Pending = { requestId, action, frame, timer, resolve, reject };
      this.pending.set(requestId, entry);
      if (socket !== undefined) this.send(entry, socket);
    });
  }

  /** Sends the requests that were waiting for a connection on `socket`. */
  sendWaiting(socket: Socket): void {
    for (const entry of this.pending.values()) {
      if (entry.socket === undefined) this.send(entry, socket);
    }
  }

  /** Whether replies are still due on `socket`. */
  owes(socket: Socket): boolean {
    for (const entry of this.pending.values()) if (entry.socket === socket) return true;
    return false;
  }

  /** `socket` went away: what went out on it can no longer be answered. */
  failOn(socket: Socket): void {
    for (const entry of [...this.pending.values()]) {
      if (entry.socket !== socket) continue;
      const message = `the connection closed before "${entry.action}" was answered`;
      this.settle(entry.requestId, new HeraldRequestError('connection_closed', message));
    }
  }

  /** Ends every request with `error`. */
  failAll(error: HeraldRequestError): void {
    for (const requestId of [...this.pending.keys()]) this.settle(requestId, error);
  }

  /** Settles the request a `reply` frame names with its result or its error. */
  receiveReply(frame: Record<string, unknown>): void {
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

  /** Ends a request, if still waiting; later outcomes for it are ignored. */
  settle(requestId: string, outcome: RequestResult | HeraldRequestError): void {
    const entry = this.pending.get(requestId);
    if (entry === undefined) return;
    this.pending.delete(requestId);
    this.options.timers.clearTimeout(entry.timer);
    if (outcome instanceof HeraldRequestError) entry.reject(outcome);
    else entry.resolve(outcome);
    if (entry.socket !== undefined) this.options.settled(entry.socket);
  }

  private send(entry: Pending, socket: Socket): void {
    entry.socket = socket;
    if (!this.options.send(socket, entry.frame)) {
      // The socket is going away; its close will arrive, but the answer never will.
      const error = new HeraldRequestError('connection_closed', 'the connection is closing');
      this.settle(entry.requestId, error);
    }
  }
}
