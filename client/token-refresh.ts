/**
 * Keeps a socket alive past its token: when 80% of the token's remaining lifetime has
 * passed, asks the token callback for a fresh one and sends it as `refresh` on that socket.
 * A refused refresh is reported; the server then closes the socket at the old expiry and
 * the reconnect asks the callback again.
 */
import type { ErrorBody } from '../functions/core/frames';
import type { Socket } from './reconnecting-socket';
import { HeraldRequestError, type RequestResult } from './request-table';
import type { Timers } from './timers';

/** Share of the remaining lifetime after which the client refreshes. */
const REFRESH_AT = 0.8;
/** setTimeout's largest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface TokenRefreshDeps {
  timers: Timers;
  now: () => number;
  token: () => string | Promise<string>;
  /** Sends a request on this very socket (not whichever is active). */
  request(action: 'refresh', args: { token: string }, socket: Socket): Promise<RequestResult>;
  isLive(socket: Socket): boolean;
  error(error: ErrorBody): void;
}

/** The `exp` claim (epoch s) of a JWT, read without verifying it; undefined when it has none. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replaceAll('-', '+').replaceAll('_', '/');
    const claims = JSON.parse(atob(base64)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

export class TokenRefresher {
  private timer: unknown;

  constructor(private readonly deps: TokenRefreshDeps) {}

  /** A socket became the active one, opened with `token`: plan its refresh. */
  activated(socket: Socket, token: string | undefined): void {
    this.stop();
    const expiry = token === undefined ? undefined : tokenExpiry(token);
    if (expiry === undefined) return;
    const remaining = expiry * 1000 - this.deps.now();
    const delay = Math.min(Math.max(0, remaining * REFRESH_AT), MAX_DELAY_MS);
    this.timer = this.deps.timers.setTimeout(() => void this.refresh(socket), delay);
  }

  stop(): void {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async refresh(socket: Socket): Promise<void> {
    this.timer = undefined;
    if (!this.deps.isLive(socket)) return;
    try {
      const token = await this.deps.token();
      await this.deps.request('refresh', { token }, socket);
      if (this.deps.isLive(socket)) this.activated(socket, token);
    } catch (error) {
      const body =
        error instanceof HeraldRequestError
          ? { code: error.code, message: error.message }
          : { code: 'refresh_failed', message: 'could not get a fresh token' };
      this.deps.error(body);
    }
  }
}
