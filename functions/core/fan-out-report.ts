import type { Problem } from './push';

export interface FanOutReport {
  /** The notification's id; for an event its recipients had under an earlier publish, that one's. */
  notificationId: string;
  /** Recipients (users, or a topic) for whom the notification was already stored. */
  duplicates: number;
  /**
   * Recipients for whom this envelope was folded into a collapse window whose push carries
   * the latest envelope of its key instead (possibly this one, pushed by another invocation).
   */
  coalesced: number;
  /** Users whose preferences keep this type out of their inbox and off their sockets. */
  muted: number;
  delivered: number;
  pruned: number;
  /** Connections handed to a later invocation after failing every retry here. */
  deferred: number;
  /** Connections given up after the last retry task (the inbox still holds the notification). */
  abandoned: number;
  /** Failures that did not fail the message; for the handler to log. */
  problems: Problem[];
}

/** A report of nothing done yet, for the notification with this id. */
export function newReport(notificationId: string): FanOutReport {
  return {
    notificationId,
    duplicates: 0,
    coalesced: 0,
    muted: 0,
    delivered: 0,
    pruned: 0,
    deferred: 0,
    abandoned: 0,
    problems: [],
  };
}
