/**
 * The `ReplaySource` contract (see `functions/core/ports.ts`): a recipient's stored
 * notifications read forwards from a cursor, oldest first, and whether an id is among them;
 * one the user deleted is not among them.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Notification, Recipient } from '#core/model';
import type { ReplaySource, StoredNotification } from '#core/ports';
import { unique } from './names';
import { published, series } from './notifications';

export interface ReplayUnderTest {
  source: ReplaySource;
  /** Files notifications for the recipient, as the fan-out does. */
  file(recipient: Recipient, notes: Notification[]): Promise<void>;
  /** Deletes a user's notification, as its owner does. */
  remove(recipient: Extract<Recipient, { kind: 'user' }>, id: string): Promise<void>;
}

export function replaySourceContract(make: () => ReplayUnderTest): void {
  describe('ReplaySource', () => {
    let replay: ReplayUnderTest;
    let tenant: string;
    let alice: Extract<Recipient, { kind: 'user' }>;

    beforeEach(() => {
      replay = make();
      tenant = unique('tenant');
      alice = { kind: 'user', tenant, userId: unique('alice') };
    });

    const ids = (notes: Array<Notification | StoredNotification>) =>
      notes.map((note) => ('notification' in note ? note.notification.id : note.id));
    const has = async (recipient: Recipient, id: string) =>
      (await replay.source.storedAt(recipient, id)) !== undefined;

    it('knows when each notification was filed, however long after its publish', async () => {
      const [early, late] = series(tenant, 2);
      if (!early || !late) throw new Error('no notification');
      const before = Date.now();
      await replay.file(alice, [late, early]);
      const after = Date.now();

      // The ids sort by publish time; filing times are when the fan-out wrote, now.
      for (const note of [early, late]) {
        const at = await replay.source.storedAt(alice, note.id);
        expect(at).toBeGreaterThanOrEqual(before);
        expect(at).toBeLessThanOrEqual(after);
      }
      const read = await replay.source.after(alice, published(tenant, -1, 'evt-start').id, 10);
      expect(read.map((n) => n.storedAt)).toEqual([
        await replay.source.storedAt(alice, early.id),
        await replay.source.storedAt(alice, late.id),
      ]);
    });

    it('knows the ids of the recipient’s history, and only those', async () => {
      const [note] = series(tenant, 1);
      if (!note) throw new Error('no notification');
      await replay.file(alice, [note]);

      expect(await has(alice, note.id)).toBe(true);
      expect(await has(alice, published(tenant, 50, 'evt-x').id)).toBe(false);
      expect(await has({ ...alice, userId: unique('bob') }, note.id)).toBe(false);
      expect(await has({ ...alice, tenant: unique('other') }, note.id)).toBe(false);
    });

    it('reads what followed the cursor, oldest first, up to the limit, page after page', async () => {
      const notes = series(tenant, 7);
      await replay.file(alice, [...notes].reverse());
      const [cursor] = notes;
      if (!cursor) throw new Error('no notification');

      const first = await replay.source.after(alice, cursor.id, 4);
      const rest = await replay.source.after(alice, first.at(-1)?.notification.id ?? '', 4);

      expect(ids(first)).toEqual(ids(notes.slice(1, 5)));
      expect(first[0]?.notification).toEqual(notes[1]);
      expect(ids(rest)).toEqual(ids(notes.slice(5)));
      expect(await replay.source.after(alice, notes.at(-1)?.id ?? '', 4)).toEqual([]);
    });

    it('reads on from a cursor that is not stored, by id order', async () => {
      const notes = series(tenant, 3, 10);
      await replay.file(alice, notes);
      const before = published(tenant, 5, 'evt-gone').id;
      const between = published(tenant, 11.5, 'evt-between-gone').id;

      expect(ids(await replay.source.after(alice, before, 10))).toEqual(ids(notes));
      expect(ids(await replay.source.after(alice, between, 10))).toEqual(ids(notes.slice(2)));
    });

    it('neither replays nor knows a notification the user deleted', async () => {
      const notes = series(tenant, 7);
      await replay.file(alice, notes);
      const deleted = notes.filter((_, i) => i % 2 === 1);
      for (const note of deleted) await replay.remove(alice, note.id);
      const kept = notes.filter((_, i) => i % 2 === 0);
      const [start, gone] = notes;
      if (!start || !gone) throw new Error('no notification');

      expect(await has(alice, gone.id)).toBe(false);
      const first = await replay.source.after(alice, start.id, 2);
      expect(ids(first)).toEqual(ids(kept.slice(1, 3)));
      expect(ids(await replay.source.after(alice, first.at(-1)?.notification.id ?? '', 2))).toEqual(
        ids(kept.slice(3)),
      );
      // From a deleted one's id, by id order, as from any id not stored.
      expect(ids(await replay.source.after(alice, gone.id, 10))).toEqual(ids(kept.slice(1)));
    });

    it('reads a topic’s history, and never another recipient’s', async () => {
      const topic = unique('project');
      const news: Recipient = { kind: 'topic', tenant, topic };
      const notes = series(tenant, 3).map((note) => ({ ...note, topic }));
      await replay.file(news, notes);
      await replay.file(alice, series(tenant, 3, 100));
      const start = published(tenant, -1, 'evt-start').id;

      expect(ids(await replay.source.after(news, start, 10))).toEqual(ids(notes));
      expect(await replay.source.after({ ...alice, userId: unique('bob') }, start, 10)).toEqual([]);
    });
  });
}
