/**
 * What a recipient's change events leave behind: not the events (they are pushed and
 * forgotten) but, per kind (`collapseKey`, else `type`), the last one pushed, so that a
 * client that was away learns on `resume` which kinds changed and refetches those.
 */
import { changeKind, toChange } from './envelope';
import type { ChangeSummary, Envelope, Recipient } from './model';
import { notificationTime } from './notification-id';

/** Kinds kept per recipient; past it the one changed longest ago is dropped. */
export const MAX_CHANGE_KINDS = 100;

/** A kind's last change, with when it was recorded (epoch ms), which may be after `at`. */
export interface RecordedChange extends ChangeSummary {
  recordedAt: number;
}

/**
 * The last change per kind of each recipient (a user, or a topic): one small record each,
 * written once per change pushed (after coalescing), read by `resume`.
 */
export interface ChangeLog {
  /**
   * Makes `change` its kind's last change unless a newer one (by id) is there already;
   * keeps at most `keep` kinds, dropping the least recently recorded. Expires (TTL) at
   * `expiresAt` (epoch s) unless written again.
   */
  note(
    recipient: Recipient,
    change: RecordedChange,
    options: { expiresAt: number; keep: number },
  ): Promise<void>;
  /** Every kind's last change the recipient has on record, in no particular order. */
  last(recipient: Recipient): Promise<RecordedChange[]>;
}

/** The record of a change event published at `publishedAt`, recorded at `now`. */
export function recordOf(envelope: Envelope, publishedAt: number, now: number): RecordedChange {
  const { id, type, at } = toChange(envelope, publishedAt);
  return { kind: changeKind(envelope), type, id, at, recordedAt: now };
}

/**
 * The kinds a client whose cursor is `cursor` (a notification or change id) may have
 * missed: each kind's last change if its id is after the cursor, or if it was recorded
 * after the cursor's own time less `marginMs` (a change published before the cursor but
 * pushed late, after the client left). A kind the client saw may so be reported again
 * (the client drops ids it has seen); a kind it missed never goes unreported. Oldest first.
 */
export function changesSince(
  recorded: readonly RecordedChange[],
  cursor: string,
  marginMs: number,
): ChangeSummary[] {
  const from = (notificationTime(cursor) ?? 0) - marginMs;
  const latest = new Map<string, RecordedChange>();
  for (const change of recorded) {
    if (change.id <= cursor && change.recordedAt < from) continue;
    const known = latest.get(change.kind);
    if (known === undefined || change.id > known.id) latest.set(change.kind, change);
  }
  return [...latest.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ kind, type, id, at }) => ({ kind, type, id, at }));
}
