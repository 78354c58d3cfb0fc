/**
 * The ports of a connection's lifetime and frame budget: what the sweep, `refresh` and the
 * frame gate need from storage. Re-exported by `./ports` beside the others.
 */
import type { ConnectionRef, Page } from './model';

/** A connection whose token expires (epoch s) within a given minute: what the sweep reads. */
export interface ExpiringConnection extends ConnectionRef {
  tenant: string;
  tokenExpiresAt: number;
}

/**
 * The lifetime of connections, which is their token's: a `refresh` frame extends it, and the
 * sweep finds the connections whose token ran out, by the minute it ran out in (a Query per
 * minute, never a Scan).
 */
export interface ConnectionLifetimes {
  /**
   * Sets the connection's token expiry to `tokenExpiresAt` unless it holds a later one (an
   * expiry never shortens) and returns the expiry it then holds. NotFoundError when gone.
   */
  extend(connectionId: string, tokenExpiresAt: number): Promise<number>;
  /** One page of the connections whose token expires within `minute` (epoch minutes). */
  expiringIn(minute: number, cursor?: string): Promise<Page<ExpiringConnection>>;
}

/** A connection's frame budget: `perSecond` frames a second on average, `burst` at once. */
export type FrameRule = { perSecond: number; burst: number };

/** Whether a frame may be handled; a refused one says how many were refused so far. */
export type FrameVerdict = { admitted: true } | { admitted: false; refusals: number };

/** Per-connection token buckets every container shares (one client, one budget). */
export interface FrameBudget {
  take(connectionId: string, rule: FrameRule, nowMs: number): Promise<FrameVerdict>;
}
