/**
 * The `SnoozeListing` and `SweepWatermark` contracts (see `functions/core/snooze-ports.ts`):
 * entries listed by minute, paged, dropped only while they hold the `until` they were read
 * with; a watermark that only moves forward.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SnoozeEntry, SnoozeListing, SweepWatermark } from '#core/snooze-ports';
import { unique } from './names';

/** A minute of its own for each test, far from any other test's. */
function freshMinute(): number {
  return 29_000_000 + Math.floor(Math.random() * 1_000_000);
}

async function allIn(listing: SnoozeListing, minute: number): Promise<SnoozeEntry[]> {
  const entries: SnoozeEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await listing.dueIn(minute, cursor);
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return entries;
}

export function snoozeListingContract(
  make: () => { listing: SnoozeListing; watermark: SweepWatermark },
): void {
  describe('SnoozeListing', () => {
    let listing: SnoozeListing;
    let tenant: string;
    let minute: number;

    beforeEach(() => {
      listing = make().listing;
      tenant = unique('tenant');
      minute = freshMinute();
    });

    const entry = (id: string, userId = 'alice#1', until = '2026-11-23T12:00:30.000Z') => ({
      tenant,
      userId,
      id,
      until,
    });

    it('lists entries under their minute only, every one across pages', async () => {
      const added = Array.from({ length: 130 }, (_, i) => entry(`id${i}`, `user-${i % 7}`));
      for (const each of added) await listing.add(each, minute);
      await listing.add(entry('elsewhere'), minute + 1);

      const found = await allIn(listing, minute);

      expect(found).toHaveLength(130);
      expect(found).toEqual(expect.arrayContaining(added));
      expect(await allIn(listing, minute + 1)).toEqual([entry('elsewhere')]);
      expect(await allIn(listing, minute - 1)).toEqual([]);
    });

    it('keeps one entry per notification and minute, the last `until` written', async () => {
      await listing.add(entry('n1', 'alice', '2026-11-23T12:00:10.000Z'), minute);
      await listing.add(entry('n1', 'alice', '2026-11-23T12:00:50.000Z'), minute);
      expect(await allIn(listing, minute)).toEqual([
        entry('n1', 'alice', '2026-11-23T12:00:50.000Z'),
      ]);
    });

    it('drops an entry only while it holds the `until` it was read with', async () => {
      const old = entry('n1', 'alice', '2026-11-23T12:00:10.000Z');
      await listing.add(old, minute);
      await listing.add(entry('n1', 'alice', '2026-11-23T12:00:50.000Z'), minute);
      await listing.remove(old, minute);
      expect(await allIn(listing, minute)).toHaveLength(1);

      await listing.remove(entry('n1', 'alice', '2026-11-23T12:00:50.000Z'), minute);
      await listing.remove(entry('n1', 'alice', '2026-11-23T12:00:50.000Z'), minute);
      expect(await allIn(listing, minute)).toEqual([]);
    });

    it("keeps users' entries apart, whatever their ids hold", async () => {
      await listing.add(entry('n1', 'a#b'), minute);
      await listing.add(entry('n1', 'a'), minute);
      await listing.remove(entry('n1', 'a'), minute);
      expect(await allIn(listing, minute)).toEqual([entry('n1', 'a#b')]);
    });
  });

  describe('SweepWatermark', () => {
    it('moves forward only', async () => {
      const { watermark } = make();
      const base = freshMinute() + 100_000_000;
      await watermark.advance(base);
      expect(await watermark.read()).toBe(base);
      await watermark.advance(base - 5);
      expect(await watermark.read()).toBe(base);
      await watermark.advance(base + 1);
      expect(await watermark.read()).toBe(base + 1);
    });
  });
}
