/**
 * The ports of snooze: the due-listing the wake-up reads by the minute, the watermark that
 * says how far it has read, and the inbox writes that hide a notification and bring it back.
 */
import type { Notification, Page } from './model';

/** A snoozed notification as its due-listing holds it: whose, which, and until when. */
export interface SnoozeEntry {
  tenant: string;
  userId: string;
  id: string;
  /** The `snoozedUntil` the snooze set (ISO). The row still holding it is what makes it due. */
  until: string;
}

/**
 * The due-listing: one entry per snooze under the minute it ends in, so that the wake-up
 * reads each minute with one Query (paged), never a Scan, and needs no schedule per item.
 */
export interface SnoozeListing {
  /**
   * Lists the snooze under `minute` (epoch minutes): the one its `until` falls in, written
   * before the row is hidden so that no hidden row lacks its entry; or a later one, where
   * the wake-up defers an entry it could not handle.
   */
  add(entry: SnoozeEntry, minute: number): Promise<void>;
  /** One page of the entries listed under `minute`. */
  dueIn(minute: number, cursor?: string): Promise<Page<SnoozeEntry>>;
  /** Drops an entry listed under `minute` (woken, stale or deferred). Idempotent. */
  remove(entry: SnoozeEntry, minute: number): Promise<void>;
}

/**
 * The last minute whose due entries were all handled. Survives restarts and redeploys, so
 * a wake-up that did not run for hours reads every minute it missed on its next runs.
 */
export interface SweepWatermark {
  /** Undefined before the first run. */
  read(): Promise<number | undefined>;
  /** Moves it forward to `minute`; never back (a slower concurrent run changes nothing). */
  advance(minute: number): Promise<void>;
}

/** What hiding a notification found. */
export type SnoozeOutcome =
  | { kind: 'snoozed' }
  | { kind: 'missing' }
  /** It expires (epoch s) before the snooze would end. */
  | { kind: 'expires-first'; expiresAt: number }
  /** It is archived: unarchive it first. */
  | { kind: 'archived' };

/** The inbox's side of snooze: the conditional writes on one user's notification row. */
export interface SnoozeInbox {
  /** Hides the notification until `until` (ISO), or moves its snooze there. */
  snooze(tenant: string, userId: string, id: string, until: string): Promise<SnoozeOutcome>;
  /**
   * Brings a snoozed notification back: visible, unread and unseen. With `until`, only if it
   * is still snoozed until exactly then (the wake-up: a moved or ended snooze is left alone);
   * without, if it is snoozed at all (the user's unsnooze). Undefined when nothing changed,
   * so a repeated wake is a no-op.
   */
  wake(
    tenant: string,
    userId: string,
    id: string,
    until?: string,
  ): Promise<Notification | undefined>;
}
