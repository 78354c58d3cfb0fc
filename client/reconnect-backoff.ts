/**
 * How long the browser client waits before reconnecting. Not Herald's server backoff
 * (`#core/backoff`): the growth factor is an option, and a handshake that keeps failing
 * (e.g. a 401) waits near the maximum rather than risking retries in a tight loop.
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** After this many attempts in a row that never opened (e.g. a 401), wait near `maxMs`. */
  failuresBeforeMax: number;
}

export interface ReconnectAttempt {
  /** 1 for the first reconnect after a loss; reset once a socket opens. */
  attempt: number;
  /** Attempts in a row whose socket never opened. */
  failuresWithoutOpen: number;
}

/** Exponential backoff with full jitter; near the maximum once the handshake keeps failing. */
export function reconnectDelay(
  { attempt, failuresWithoutOpen }: ReconnectAttempt,
  { initialMs, maxMs, factor, failuresBeforeMax }: BackoffOptions,
  random: () => number,
): number {
  if (failuresWithoutOpen >= failuresBeforeMax) {
    return Math.floor(maxMs / 2 + (random() * maxMs) / 2);
  }
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
