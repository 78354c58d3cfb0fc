/**
 * The `OwnerInbox` contract (see `functions/core/ports.ts`): a user's own notifications,
 * newest first in pages, read state and deletion, the unread count always the number of
 * unread notifications; one past its `expiresAt` is gone; another user's notification is
 * simply not found. Filled through the fan-out's
 * side of the same inbox.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError } from '#core/errors';
import type { Notification, Recipient } from '#core/model';
import type { FanOutInbox, InboxQuery, OwnerInbox } from '#core/ports';
import type { MakeInbox } from './inbox';
import { unique } from './names';
import { EXPIRES_AT, published, series } from './notifications';

export function ownerInboxContract(make: MakeInbox): void {
  describe('OwnerInbox', () => {
    let fanOut: FanOutInbox;
    let owner: OwnerInbox;
    let tenant: string;
    let userId: string;
    let alice: Extract<Recipient, { kind: 'user' }>;

    beforeEach(() => {
      ({ fanOut, owner } = make());
      tenant = unique('tenant');
      userId = unique('alice');
      alice = { kind: 'user', tenant, userId };
    });

    async function file(recipient: Recipient, notes: Notification[]): Promise<Notification[]> {
      for (const note of notes) await fanOut.store(recipient, note, EXPIRES_AT);
      return notes;
    }

    /** Every page, following cursors to the end. */
    async function pages(recipient: Recipient, query: InboxQuery): Promise<Notification[][]> {
      const all: Notification[][] = [];
      let cursor: string | undefined;
      do {
        const page = await owner.list(recipient, { ...query, cursor });
        all.push(page.items);
        cursor = page.cursor;
      } while (cursor !== undefined && all.length < 50);
      return all;
    }

    const idsOf = (notes: Notification[]) => notes.map((note) => note.id);

    /** Not got, not marked (read or unread), not deleted: missing to every change. */
    async function expectNotFound(id: string, readId: string): Promise<void> {
      expect(await owner.get(tenant, userId, id)).toBeUndefined();
      expect(await owner.markRead(tenant, userId, [id])).toMatchObject({
        missing: [id],
        unreadDelta: 0,
      });
      expect(await owner.markUnread(tenant, userId, readId)).toMatchObject({
        missing: [readId],
        unreadDelta: 0,
      });
      expect(await owner.remove(tenant, userId, id)).toMatchObject({
        missing: [id],
        unreadDelta: 0,
      });
    }

    describe('list', () => {
      it('pages newest first, the last page without a cursor, only notification fields', async () => {
        const notes = await file(alice, series(tenant, 5));
        const bare = published(tenant, 10, 'evt-bare', {
          title: undefined,
          body: undefined,
          data: undefined,
          url: undefined,
        });
        await file(alice, [bare]);

        const listed = await pages(alice, { limit: 2 });

        expect(listed.map(idsOf)).toEqual([
          [bare.id, notes[4]?.id],
          [notes[3]?.id, notes[2]?.id],
          [notes[1]?.id, notes[0]?.id],
          [],
        ]);
        expect(listed[0]?.[1]).toEqual(notes[4]);
        expect(Object.keys(listed[0]?.[0] ?? {}).sort()).toEqual([
          'archived',
          'createdAt',
          'eventId',
          'id',
          'interacted',
          'read',
          'seen',
          'type',
        ]);
      });

      it('ends a page that fills its limit with a cursor, though nothing may follow', async () => {
        // As DynamoDB answers a Query that stops at its limit: the next page is empty.
        const notes = await file(alice, series(tenant, 3));

        const listed = await pages(alice, { limit: 3 });

        expect(listed.map(idsOf)).toEqual([idsOf(notes).reverse(), []]);
      });

      it('neither skips nor repeats while newer notifications arrive between pages', async () => {
        const before = await file(alice, series(tenant, 7));
        const seen: string[] = [];
        let cursor: string | undefined;
        let second = 100;
        do {
          const page = await owner.list(alice, { limit: 2, cursor });
          seen.push(...idsOf(page.items));
          await file(alice, [published(tenant, second++, `evt-new-${second}`)]);
          cursor = page.cursor;
        } while (cursor);

        expect(seen).toEqual(idsOf(before).reverse());
      });

      it('lists only unread notifications when asked, with a cursor across pages', async () => {
        const notes = await file(alice, series(tenant, 9));
        await owner.markRead(tenant, userId, idsOf(notes.filter((_, i) => i % 3 !== 0)));
        const unread = idsOf(notes.filter((_, i) => i % 3 === 0)).reverse();

        const first = await owner.list(alice, { limit: 2, unreadOnly: true });
        const second = await owner.list(alice, {
          limit: 2,
          unreadOnly: true,
          cursor: first.cursor,
        });

        expect(idsOf(first.items)).toEqual(unread.slice(0, 2));
        expect(first.cursor).toBeDefined();
        expect(idsOf(second.items)).toEqual(unread.slice(2));
        expect(second.cursor).toBeUndefined();
      });

      it('never lists another user’s or tenant’s notifications', async () => {
        await file(alice, series(tenant, 2));

        expect(await owner.list({ ...alice, userId: unique('bob') }, { limit: 10 })).toEqual({
          items: [],
        });
        expect(await owner.list({ ...alice, tenant: unique('other') }, { limit: 10 })).toEqual({
          items: [],
        });
      });

      it('refuses a cursor that is not one of this listing’s as a bad request', async () => {
        await file(alice, series(tenant, 3));
        const bob: Recipient = { kind: 'user', tenant, userId: unique('bob') };
        await file(bob, series(tenant, 3));
        const bobs = (await owner.list(bob, { limit: 1 })).cursor;

        await expect(owner.list(alice, { limit: 1, cursor: bobs })).rejects.toBeInstanceOf(
          BadRequestError,
        );
        await expect(
          owner.list(alice, { limit: 1, cursor: 'not-a-cursor' }),
        ).rejects.toBeInstanceOf(BadRequestError);
      });

      it("lists a topic's history whole, unread-only or not", async () => {
        const topic = unique('project');
        const news: Recipient = { kind: 'topic', tenant, topic };
        const notes = await file(
          news,
          series(tenant, 2).map((note) => ({ ...note, topic })),
        );

        const listed = await owner.list(news, { limit: 10, unreadOnly: true });

        expect(listed).toEqual({ items: [...notes].reverse() });
      });
    });

    it('gets the caller’s own notification only', async () => {
      const [note] = await file(alice, series(tenant, 1));
      if (!note) throw new Error('filed nothing');

      expect(await owner.get(tenant, userId, note.id)).toEqual(note);
      expect(await owner.get(tenant, unique('mallory'), note.id)).toBeUndefined();
      expect(await owner.get(unique('other'), userId, note.id)).toBeUndefined();
    });

    it('counts 0 for a user who never got anything, then each fresh store', async () => {
      expect(await owner.unreadCount(tenant, userId)).toBe(0);
      await file(alice, series(tenant, 2));
      expect(await owner.unreadCount(tenant, userId)).toBe(2);
    });

    describe('expiry', () => {
      /** A TTL that has passed at any clock reading: the row waits for DynamoDB to delete it. */
      const EXPIRED = 1;

      it('treats a notification past its expiresAt as gone: listed, got, counted and changed', async () => {
        const [live, gone, goneRead] = series(tenant, 3);
        if (!live || !gone || !goneRead) throw new Error('made nothing');
        await fanOut.store(alice, live, EXPIRES_AT);
        await fanOut.store(alice, gone, EXPIRED);
        await fanOut.store(alice, { ...goneRead, read: true }, EXPIRED);

        expect(await owner.unreadCount(tenant, userId)).toBe(1);
        expect(idsOf((await owner.list(alice, { limit: 10 })).items)).toEqual([live.id]);
        expect(idsOf((await owner.list(alice, { limit: 10, unreadOnly: true })).items)).toEqual([
          live.id,
        ]);
        await expectNotFound(gone.id, goneRead.id);
        expect(await owner.markAllRead(tenant, userId)).toMatchObject({
          missing: [],
          unreadDelta: -1,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(0);
      });
    });

    describe('deletion', () => {
      it('does not list, get, count, mark or delete again a deleted notification', async () => {
        const notes = await file(alice, series(tenant, 9));
        // Every other one, so listed pages must read past deleted ones to fill up.
        const deleted = notes.filter((_, i) => i % 2 === 1);
        const kept = notes.filter((_, i) => i % 2 === 0);
        await owner.markRead(tenant, userId, [kept[0]?.id ?? '']);
        await owner.markRead(tenant, userId, [deleted[0]?.id ?? '']);
        for (const note of deleted) await owner.remove(tenant, userId, note.id);
        const gone = deleted[1];
        const goneRead = deleted[0];
        if (!gone || !goneRead) throw new Error('deleted nothing');

        expect(await owner.unreadCount(tenant, userId)).toBe(kept.length - 1);
        const newestFirst = idsOf([...kept].reverse());
        for (const limit of [1, 2, 3, 10]) {
          expect(idsOf((await pages(alice, { limit })).flat())).toEqual(newestFirst);
        }
        expect(idsOf((await pages(alice, { limit: 2, unreadOnly: true })).flat())).toEqual(
          newestFirst.slice(0, -1),
        );
        await expectNotFound(gone.id, goneRead.id);
        expect(await owner.markAllRead(tenant, userId)).toMatchObject({
          missing: [],
          unreadDelta: -(kept.length - 1),
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(0);
        expect(await owner.get(tenant, userId, gone.id)).toBeUndefined();
        expect(idsOf((await owner.list(alice, { limit: 10 })).items)).toEqual(newestFirst);
      });
    });

    describe('read state', () => {
      it('marks read and unread, moving the count with the flag, once per flip', async () => {
        const [a, b] = await file(alice, series(tenant, 2));
        if (!a || !b) throw new Error('filed nothing');

        expect(await owner.markRead(tenant, userId, [a.id, a.id])).toMatchObject({
          missing: [],
          unreadDelta: -1,
        });
        expect(await owner.markRead(tenant, userId, [a.id])).toMatchObject({
          missing: [],
          unreadDelta: 0,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(1);
        expect((await owner.get(tenant, userId, a.id))?.read).toBe(true);

        expect(await owner.markUnread(tenant, userId, a.id)).toMatchObject({
          missing: [],
          unreadDelta: 1,
        });
        expect(await owner.markUnread(tenant, userId, a.id)).toMatchObject({
          missing: [],
          unreadDelta: 0,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(2);
      });

      it('reports ids that are not the caller’s as missing, leaving the owner’s alone', async () => {
        const [mine] = await file(alice, series(tenant, 1));
        if (!mine) throw new Error('filed nothing');
        const ghost = published(tenant, 99, 'evt-ghost').id;
        const mallory = unique('mallory');

        expect(await owner.markRead(tenant, mallory, [mine.id, ghost])).toMatchObject({
          missing: [mine.id, ghost],
          unreadDelta: 0,
        });
        expect(await owner.markRead(unique('other'), userId, [mine.id])).toMatchObject({
          missing: [mine.id],
          unreadDelta: 0,
        });
        expect(await owner.markUnread(tenant, mallory, mine.id)).toMatchObject({
          missing: [mine.id],
          unreadDelta: 0,
        });
        expect(await owner.remove(tenant, mallory, mine.id)).toMatchObject({
          missing: [mine.id],
          unreadDelta: 0,
        });

        expect(await owner.get(tenant, userId, mine.id)).toMatchObject({ read: false });
        expect(await owner.unreadCount(tenant, userId)).toBe(1);
        expect(await owner.unreadCount(tenant, mallory)).toBe(0);
      });

      it('reads all, bringing the count to zero, and then has nothing left to read', async () => {
        const notes = await file(alice, series(tenant, 6));
        await owner.markRead(tenant, userId, [notes[0]?.id ?? '', notes[4]?.id ?? '']);

        expect(await owner.markAllRead(tenant, userId)).toMatchObject({
          missing: [],
          unreadDelta: -4,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(0);
        expect((await owner.list(alice, { limit: 10, unreadOnly: true })).items).toEqual([]);
        expect(await owner.markAllRead(tenant, userId)).toMatchObject({
          missing: [],
          unreadDelta: 0,
        });
      });

      it('deletes, moving the count only for an unread notification', async () => {
        const [unread, read] = await file(alice, series(tenant, 2));
        if (!unread || !read) throw new Error('filed nothing');
        await owner.markRead(tenant, userId, [read.id]);

        expect(await owner.remove(tenant, userId, read.id)).toMatchObject({
          missing: [],
          unreadDelta: 0,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(1);
        expect(await owner.remove(tenant, userId, unread.id)).toMatchObject({
          missing: [],
          unreadDelta: -1,
        });
        expect(await owner.unreadCount(tenant, userId)).toBe(0);
        expect(await owner.remove(tenant, userId, unread.id)).toMatchObject({
          missing: [unread.id],
          unreadDelta: 0,
        });
        expect(await owner.get(tenant, userId, unread.id)).toBeUndefined();
        expect(await owner.list(alice, { limit: 10 })).toEqual({ items: [] });
      });
    });
  });
}
