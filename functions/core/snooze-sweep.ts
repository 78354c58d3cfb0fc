/**
 * The snooze wake-up, run every minute (an EventBridge schedule in AWS, a timer locally):
 * reads the due-listing minute by minute from just after its watermark up to now, brings
 * back each notification whose row is still snoozed until the entry's time, pushes it again
 * with the user's new counts, and moves the watermark past the minutes it finished. A run
 * that fails, or a function that did not run for hours, leaves its minutes for the next run:
 * nothing is lost, and a second run over the same minutes changes nothing.
 */
import { mapLimited } from './limiter';
import type { Notification } from './model';
import type { Clock } from './ports';
import type { Problem } from './push';
import type { SnoozeEntry, SnoozeInbox, SnoozeListing, SweepWatermark } from './snooze-ports';

export interface SnoozeSweepSettings {
  /** Minutes before now the first run ever reads (no watermark yet). */
  firstLookbackMinutes: number;
  /** Minutes one run reads at most; a longer backlog is read by the runs after it. */
  maxMinutesPerRun: number;
  /**
   * Minutes before the watermark read again: a snooze written a moment before its own
   * minute was read (clocks of two machines differ a little) is still found.
   */
  overlapMinutes: number;
  /** Users handled at once. */
  concurrency: number;
}

export const DEFAULT_SNOOZE_SWEEP_SETTINGS: SnoozeSweepSettings = {
  firstLookbackMinutes: 60,
  // A day of backlog at ~10 ms a Query: well inside the function's 50 s.
  maxMinutesPerRun: 1_440,
  overlapMinutes: 1,
  concurrency: 8,
};

/** Whose: the user a woken notification is announced to. */
export interface SnoozeOwner {
  tenant: string;
  userId: string;
}

export interface SnoozeSweepDeps {
  listing: SnoozeListing;
  watermark: SweepWatermark;
  inbox: Pick<SnoozeInbox, 'wake'>;
  /**
   * Tells every live connection of the user: a `notification` frame for each one woken,
   * then one `state` frame. Best effort: a failure is a problem, not a failed wake.
   */
  announce(owner: SnoozeOwner, woken: Notification[]): Promise<unknown>;
  clock: Clock;
  settings?: Partial<SnoozeSweepSettings>;
}

export interface SnoozeSweepReport {
  /** The minutes read (epoch minutes, inclusive); empty when `from > to`. */
  from: number;
  to: number;
  /** Notifications brought back. */
  woken: number;
  /** Entries whose snooze had moved or ended, or whose row was gone: dropped. */
  stale: number;
  /** Entries whose wake failed, listed again under the next minute to be tried again. */
  deferred: number;
  /** Where the watermark stands after the run. */
  watermark: number | undefined;
  problems: Problem[];
}

export const MS_PER_MINUTE = 60_000;

/** The epoch minute an ISO time falls in: the due-listing partition of a snooze. */
export function minuteOf(isoTime: string): number {
  return Math.floor(Date.parse(isoTime) / MS_PER_MINUTE);
}

export async function sweepSnoozed(deps: SnoozeSweepDeps): Promise<SnoozeSweepReport> {
  const settings = { ...DEFAULT_SNOOZE_SWEEP_SETTINGS, ...deps.settings };
  const now = deps.clock.now();
  const thisMinute = Math.floor(now / MS_PER_MINUTE);
  const mark = await deps.watermark.read();
  const from =
    mark === undefined
      ? thisMinute - settings.firstLookbackMinutes
      : mark + 1 - settings.overlapMinutes;
  const to = Math.min(thisMinute, from + settings.maxMinutesPerRun - 1);
  const report: SnoozeSweepReport = {
    from,
    to,
    woken: 0,
    stale: 0,
    deferred: 0,
    watermark: mark,
    problems: [],
  };

  // The last minute read in full: the current one may still gain due entries. One that
  // could not be (its listing unreadable, an entry neither woken nor deferred) holds the
  // watermark before it, and later minutes are still read.
  let finished: number | undefined;
  let blocked = false;
  for (let minute = from; minute <= to; minute++) {
    const complete = await sweepMinute(deps, settings, { minute, now, thisMinute }, report);
    blocked ||= !complete;
    if (!blocked && minute < thisMinute) finished = minute;
  }
  if (finished !== undefined && (mark === undefined || finished > mark)) {
    await deps.watermark.advance(finished);
    report.watermark = finished;
  }
  return report;
}

interface SweepTime {
  minute: number;
  now: number;
  thisMinute: number;
}

/** Wakes what is due in one minute; false when something in it is left for a later run. */
async function sweepMinute(
  deps: SnoozeSweepDeps,
  settings: SnoozeSweepSettings,
  { minute, now, thisMinute }: SweepTime,
  report: SnoozeSweepReport,
): Promise<boolean> {
  let complete = true;
  let cursor: string | undefined;
  do {
    let page: Awaited<ReturnType<SnoozeListing['dueIn']>>;
    try {
      page = await deps.listing.dueIn(minute, cursor);
    } catch (error) {
      report.problems.push({ what: `read minute ${minute}`, error });
      return false;
    }
    const due = page.items.filter((entry) => Date.parse(entry.until) <= now);
    const byOwner = new Map<string, SnoozeEntry[]>();
    for (const entry of due) {
      const key = JSON.stringify([entry.tenant, entry.userId]);
      byOwner.set(key, [...(byOwner.get(key) ?? []), entry]);
    }
    await mapLimited([...byOwner.values()], settings.concurrency, async (entries) => {
      const woken: Notification[] = [];
      for (const entry of entries) {
        const outcome = await wakeOne(deps, entry, minute, thisMinute, report);
        if (outcome === 'kept') complete = false;
        else if (outcome !== 'stale' && outcome !== 'deferred') woken.push(outcome);
      }
      report.woken += woken.length;
      const [first] = entries;
      if (woken.length === 0 || first === undefined) return;
      try {
        await deps.announce({ tenant: first.tenant, userId: first.userId }, woken);
      } catch (error) {
        report.problems.push({ what: `announce ${woken.length} woken`, error });
      }
    });
    cursor = page.cursor;
  } while (cursor !== undefined);
  return complete;
}

/**
 * Wakes one entry and drops it. One whose wake fails is listed again under the next minute,
 * so that one bad entry never holds back the watermark; only when even that fails is it
 * `kept` where it is, for a later run to read again. An entry that could not be dropped
 * after its wake is harmless: read again, it finds its snooze over (stale), and its TTL
 * removes it in the end.
 */
async function wakeOne(
  deps: SnoozeSweepDeps,
  entry: SnoozeEntry,
  minute: number,
  thisMinute: number,
  report: SnoozeSweepReport,
): Promise<Notification | 'stale' | 'deferred' | 'kept'> {
  let notification: Notification | undefined;
  try {
    notification = await deps.inbox.wake(entry.tenant, entry.userId, entry.id, entry.until);
  } catch (error) {
    report.problems.push({ what: `wake ${entry.id}`, error });
    try {
      await deps.listing.add(entry, thisMinute + 1);
      await deps.listing.remove(entry, minute);
      report.deferred++;
      return 'deferred';
    } catch (deferError) {
      report.problems.push({ what: `defer ${entry.id}`, error: deferError });
      return 'kept';
    }
  }
  await deps.listing.remove(entry, minute).catch((error: unknown) => {
    report.problems.push({ what: `drop entry ${entry.id}`, error });
  });
  if (notification === undefined) report.stale++;
  return notification ?? 'stale';
}
