/**
 * A user's notification row's flags and the sparse index keys they imply (see
 * `functions/config/inbox-indexes.ts`): the one place that says which index a row is in.
 * How a change of flags is written: `dynamo-flag-update.ts`.
 */
import { INBOX_INDEXES, type InboxIndexName } from '#config/inbox-indexes';

/** The flags that decide which indexes a row is in, plus `interacted`, which decides none. */
export interface Flags {
  read: boolean;
  seen: boolean;
  archived: boolean;
  /** When a snoozed row returns (ISO); absent when it is not snoozed. */
  snoozedUntil?: string;
  interacted: boolean;
}

/** The flags a notification is filed with. */
export const FRESH: Flags = { read: false, seen: false, archived: false, interacted: false };

/** The flags of a row (or of an index entry, which projects them) as read back. */
export function flagsOf(item: Record<string, unknown>): Flags {
  const flags: Flags = {
    read: item.read === true,
    seen: item.seen === true,
    archived: item.archived === true,
    interacted: item.interacted === true,
  };
  if (typeof item.snoozedUntil === 'string') flags.snoozedUntil = item.snoozedUntil;
  return flags;
}

/** Which indexes a row with these flags belongs in. */
export function indexesOf(flags: Flags): Record<InboxIndexName, boolean> {
  const shown = !flags.archived && flags.snoozedUntil === undefined;
  return {
    unread: shown && !flags.read,
    unseen: shown && !flags.seen,
    visible: shown,
    hidden: !shown,
  };
}

/** The index key attributes of a row with these flags: each index's key is the row's `sk`. */
export function indexKeysOf(flags: Flags, sk: string): Record<string, string> {
  const keys: Record<string, string> = {};
  const member = indexesOf(flags);
  for (const [name, index] of Object.entries(INBOX_INDEXES)) {
    if (member[name as InboxIndexName]) keys[index.sortKey] = sk;
  }
  return keys;
}

/** How the counts move when a row's flags go from `before` to `after`. */
export function countDeltas(before: Flags, after: Flags): { unread: number; unseen: number } {
  const was = indexesOf(before);
  const is = indexesOf(after);
  return {
    unread: Number(is.unread) - Number(was.unread),
    unseen: Number(is.unseen) - Number(was.unseen),
  };
}

export function sameFlags(a: Flags, b: Flags): boolean {
  return (
    a.read === b.read &&
    a.seen === b.seen &&
    a.archived === b.archived &&
    a.interacted === b.interacted &&
    a.snoozedUntil === b.snoozedUntil
  );
}
