import { beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '#core/model';
import type { SnoozeEntry, SnoozeInbox } from '#core/snooze-ports';
import {
  MS_PER_MINUTE,
  minuteOf,
  type SnoozeOwner,
  type SnoozeSweepDeps,
  sweepSnoozed,
} from '#core/snooze-sweep';
import { FakeClock, FakeSnoozeListing, FakeSweepWatermark } from '#test/support/fakes';

const START = Date.parse('2026-11-23T12:00:30Z');
const THIS_MINUTE = Math.floor(START / MS_PER_MINUTE);

/** Rows by id: the snooze each holds, as the inbox's conditional wake reads it. */
class RowInbox implements Pick<SnoozeInbox, 'wake'> {
  readonly rows = new Map<string, { userId: string; snoozedUntil?: string }>();
  readonly failing = new Set<string>();

  async wake(_tenant: string, userId: string, id: string, until?: string) {
    if (this.failing.has(id)) throw new Error(`row ${id} unwritable`);
    const row = this.rows.get(id);
    if (row === undefined || row.userId !== userId || row.snoozedUntil === undefined) return;
    if (until !== undefined && row.snoozedUntil !== until) return undefined;
    row.snoozedUntil = undefined;
    return { id, eventId: `evt-${id}`, type: 't', createdAt: '', read: false } as Notification;
  }
}

let clock: FakeClock;
let listing: FakeSnoozeListing;
let watermark: FakeSweepWatermark;
let inbox: RowInbox;
let announced: Array<{ owner: SnoozeOwner; ids: string[] }>;
let deps: SnoozeSweepDeps;

beforeEach(() => {
  clock = new FakeClock(START);
  listing = new FakeSnoozeListing(2);
  watermark = new FakeSweepWatermark();
  inbox = new RowInbox();
  announced = [];
  deps = {
    listing,
    watermark,
    inbox,
    clock,
    async announce(owner, woken) {
      announced.push({ owner, ids: woken.map((n) => n.id) });
    },
  };
});

/** Snoozes a row until `atMs` and lists it, as the snooze route does. */
async function snooze(id: string, atMs: number, userId = 'alice'): Promise<SnoozeEntry> {
  const until = new Date(atMs).toISOString();
  inbox.rows.set(id, { userId, snoozedUntil: until });
  const entry = { tenant: 'acme', userId, id, until };
  await listing.add(entry, minuteOf(until));
  return entry;
}

describe('sweepSnoozed', () => {
  it('wakes what is due, announces it per user, and keeps what is not due yet', async () => {
    await snooze('n1', START - 5 * MS_PER_MINUTE);
    await snooze('n2', START - 10_000);
    await snooze('n3', START - 20_000, 'bob');
    await snooze('n4', START + 10_000); // this minute, but later
    await snooze('n5', START + 3 * MS_PER_MINUTE);

    const report = await sweepSnoozed(deps);

    expect(report).toMatchObject({ woken: 3, stale: 0, deferred: 0, problems: [] });
    expect(report.from).toBe(THIS_MINUTE - 60);
    expect(report.to).toBe(THIS_MINUTE);
    expect(announced).toEqual(
      expect.arrayContaining([
        { owner: { tenant: 'acme', userId: 'alice' }, ids: ['n1'] },
        { owner: { tenant: 'acme', userId: 'alice' }, ids: ['n2'] },
        { owner: { tenant: 'acme', userId: 'bob' }, ids: ['n3'] },
      ]),
    );
    expect(
      listing
        .all()
        .map((entry) => entry.id)
        .sort(),
    ).toEqual(['n4', 'n5']);
    // The current minute may still gain due entries: the watermark stops before it.
    expect(watermark.minute).toBe(THIS_MINUTE - 1);
  });

  it('announces the notifications of one user due in one minute together', async () => {
    await snooze('n1', START - 20_000);
    await snooze('n2', START - 10_000);
    await sweepSnoozed(deps);
    expect(announced).toEqual([{ owner: { tenant: 'acme', userId: 'alice' }, ids: ['n1', 'n2'] }]);
  });

  it('is a no-op when run again over the same minutes', async () => {
    await snooze('n1', START - 10_000);
    await sweepSnoozed(deps);
    announced = [];
    watermark.minute = undefined;

    const again = await sweepSnoozed(deps);

    expect(again).toMatchObject({ woken: 0, stale: 0 });
    expect(announced).toEqual([]);
  });

  it('drops an entry whose snooze was moved, ended or deleted, waking nothing', async () => {
    const moved = await snooze('n1', START - 10_000);
    inbox.rows.set('n1', {
      userId: 'alice',
      snoozedUntil: new Date(START + 3_600_000).toISOString(),
    });
    await snooze('n2', START - 10_000);
    inbox.rows.delete('n2');

    const report = await sweepSnoozed(deps);

    expect(report).toMatchObject({ woken: 0, stale: 2 });
    expect(announced).toEqual([]);
    expect(listing.all()).toEqual([]);
    expect(inbox.rows.get('n1')?.snoozedUntil).not.toBe(moved.until);
  });

  it('reads every minute missed while it did not run, over as many runs as it takes', async () => {
    watermark.minute = THIS_MINUTE - 1;
    await snooze('early', START + 30_000);
    await snooze('late', START + 5 * 3_600_000);
    clock.time = START + 6 * 3_600_000; // six hours without a run
    deps.settings = { maxMinutesPerRun: 200 };

    const first = await sweepSnoozed(deps);
    expect(first).toMatchObject({ from: THIS_MINUTE - 1, to: THIS_MINUTE + 198, woken: 1 });
    expect(watermark.minute).toBe(THIS_MINUTE + 198);

    expect((await sweepSnoozed(deps)).woken).toBe(1);
    const third = await sweepSnoozed(deps);
    expect(third).toMatchObject({ to: THIS_MINUTE + 360, woken: 0 });
    expect(announced.flatMap((each) => each.ids)).toEqual(['early', 'late']);
    expect(watermark.minute).toBe(Math.floor(clock.time / MS_PER_MINUTE) - 1);
  });

  it('defers an entry it could not wake to the next minute, and wakes it then', async () => {
    await snooze('n1', START - 10 * MS_PER_MINUTE);
    inbox.failing.add('n1');

    const report = await sweepSnoozed(deps);

    expect(report).toMatchObject({ woken: 0, deferred: 1 });
    expect(report.problems.map((p) => p.what)).toEqual(['wake n1']);
    expect(listing.all()).toEqual([expect.objectContaining({ id: 'n1', minute: THIS_MINUTE + 1 })]);
    expect(watermark.minute).toBe(THIS_MINUTE - 1);

    inbox.failing.delete('n1');
    clock.time += 2 * MS_PER_MINUTE;
    expect((await sweepSnoozed(deps)).woken).toBe(1);
    expect(listing.all()).toEqual([]);
  });

  it('holds the watermark before a minute it could not read, and reads on past it', async () => {
    watermark.minute = THIS_MINUTE - 10;
    listing.failing.add(THIS_MINUTE - 5);
    await snooze('n1', START - 2 * MS_PER_MINUTE);

    const report = await sweepSnoozed(deps);

    expect(report.woken).toBe(1);
    expect(watermark.minute).toBe(THIS_MINUTE - 6);
    listing.failing.clear();
    await sweepSnoozed(deps);
    expect(watermark.minute).toBe(THIS_MINUTE - 1);
  });

  it('reports an announcement that failed without undoing the wake', async () => {
    await snooze('n1', START - 10_000);
    deps.announce = async () => {
      throw new Error('socket trouble');
    };
    const report = await sweepSnoozed(deps);
    expect(report.woken).toBe(1);
    expect(report.problems.map((p) => p.what)).toEqual(['announce 1 woken']);
    expect(inbox.rows.get('n1')?.snoozedUntil).toBeUndefined();
  });
});
