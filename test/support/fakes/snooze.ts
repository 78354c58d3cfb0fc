import type { Notification, Page } from '#core/model';
import type {
  SnoozeEntry,
  SnoozeInbox,
  SnoozeListing,
  SnoozeOutcome,
  SweepWatermark,
} from '#core/snooze-ports';
import type { FakeInbox } from './inbox';
import { recipientKey } from './recipients';

function entryKey(entry: SnoozeEntry): string {
  return JSON.stringify([entry.tenant, entry.id, entry.userId]);
}

/**
 * The due-listing in maps, minute by minute, paged `pageSize` at a time as the adapter pages.
 * As the adapter does, `remove` keeps an entry whose `until` a later `add` replaced.
 */
export class FakeSnoozeListing implements SnoozeListing {
  readonly minutes = new Map<number, Map<string, SnoozeEntry>>();
  /** Minutes whose read fails, to exercise the watermark holding back. */
  readonly failing = new Set<number>();
  constructor(private readonly pageSize = 100) {}

  async add(entry: SnoozeEntry, minute: number): Promise<void> {
    const entries = this.minutes.get(minute) ?? new Map<string, SnoozeEntry>();
    entries.set(entryKey(entry), { ...entry });
    this.minutes.set(minute, entries);
  }

  async dueIn(minute: number, cursor?: string): Promise<Page<SnoozeEntry>> {
    if (this.failing.has(minute)) throw new Error(`minute ${minute} unreadable`);
    const all = [...(this.minutes.get(minute)?.values() ?? [])].sort((a, b) =>
      entryKey(a).localeCompare(entryKey(b)),
    );
    const start = cursor === undefined ? 0 : all.findIndex((e) => entryKey(e) > cursor);
    const items = start < 0 ? [] : all.slice(start, start + this.pageSize);
    const last = items.at(-1);
    const more = start >= 0 && start + this.pageSize < all.length;
    return more && last ? { items, cursor: entryKey(last) } : { items };
  }

  async remove(entry: SnoozeEntry, minute: number): Promise<void> {
    const entries = this.minutes.get(minute);
    if (entries?.get(entryKey(entry))?.until === entry.until) entries.delete(entryKey(entry));
  }

  /** Every entry still listed, with its minute. */
  all(): Array<SnoozeEntry & { minute: number }> {
    return [...this.minutes].flatMap(([minute, entries]) =>
      [...entries.values()].map((entry) => ({ ...entry, minute })),
    );
  }
}

export class FakeSweepWatermark implements SweepWatermark {
  constructor(public minute?: number) {}
  async read(): Promise<number | undefined> {
    return this.minute;
  }
  async advance(minute: number): Promise<void> {
    if (this.minute === undefined || this.minute < minute) this.minute = minute;
  }
}

/**
 * Snooze over a `FakeInbox`'s own items, as the adapter's flag writes do it: a snooze sets
 * `snoozedUntil` (refused for an archived one), a wake clears it and makes it unread and
 * unseen again (an archived one stays archived and is not handed back).
 */
export class FakeSnoozeInbox implements SnoozeInbox {
  readonly calls: string[] = [];
  constructor(private readonly inbox: FakeInbox) {}

  async snooze(tenant: string, userId: string, id: string, until: string): Promise<SnoozeOutcome> {
    this.calls.push(`snooze ${tenant}/${userId} ${id} ${until}`);
    const note = this.note(tenant, userId, id);
    if (note === undefined) return { kind: 'missing' };
    if (note.archived) return { kind: 'archived' };
    note.snoozedUntil = until;
    return { kind: 'snoozed' };
  }

  async wake(tenant: string, userId: string, id: string, until?: string) {
    this.calls.push(`wake ${tenant}/${userId} ${id} ${until ?? 'now'}`);
    const note = this.note(tenant, userId, id);
    if (note?.snoozedUntil === undefined) return undefined;
    if (until !== undefined && note.snoozedUntil !== until) return undefined;
    delete note.snoozedUntil;
    if (note.archived) return undefined;
    Object.assign(note, { read: false, seen: false });
    return structuredClone(note);
  }

  private note(tenant: string, userId: string, id: string): Notification | undefined {
    return this.inbox.items.get(`${recipientKey({ kind: 'user', tenant, userId })}/${id}`);
  }
}
