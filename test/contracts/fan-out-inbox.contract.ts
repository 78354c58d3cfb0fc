/**
 * The `FanOutInbox` contract (see `functions/core/ports.ts`): each notification filed once
 * per recipient, by its id (a redelivery, or a re-publish the event ledger gave its first
 * id) never twice, at any distance; a deleted one not again either, at any distance.
 * Observed through the owner's side of the same inbox.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Recipient } from '#core/model';
import type { FanOutInbox, OwnerInbox } from '#core/ports';
import type { MakeInbox } from './inbox';
import { unique } from './names';
import { EXPIRES_AT, published, series } from './notifications';

export function fanOutInboxContract(make: MakeInbox): void {
  describe('FanOutInbox', () => {
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

    const ids = async (recipient: Recipient) =>
      (await owner.list(recipient, { limit: 100 })).items.map((note) => note.id);

    it('stores a notification once: a redelivery is not fresh, changes nothing, counts nothing', async () => {
      const note = published(tenant, 1, 'evt-1');

      expect(await fanOut.store(alice, note, EXPIRES_AT)).toEqual({ fresh: true });
      expect(await fanOut.store(alice, { ...note, title: 'changed' }, EXPIRES_AT)).toEqual({
        fresh: false,
      });

      expect((await owner.list(alice, { limit: 10 })).items).toEqual([note]);
      expect(await owner.unreadCount(tenant, userId)).toBe(1);
    });

    it('counts a notification stored already read as nothing unread', async () => {
      await fanOut.store(alice, published(tenant, 1, 'evt-1', { read: true }), EXPIRES_AT);

      expect(await owner.unreadCount(tenant, userId)).toBe(0);
      expect((await owner.list(alice, { limit: 10 })).items[0]?.read).toBe(true);
    });

    // A re-published event id comes with its first notification's id (the fan-out's event
    // ledger gives it its first publish time): the inbox knows it by that id, at any distance.
    it('recognises a re-publish by its first id however many notifications came between', async () => {
      const first = published(tenant, 0, 'evt-0');
      await fanOut.store(alice, first, EXPIRES_AT);
      for (let i = 1; i <= 40; i++) {
        await fanOut.store(alice, published(tenant, i, `evt-${i}`), EXPIRES_AT);
      }

      expect(await fanOut.store(alice, first, EXPIRES_AT)).toEqual({ fresh: false });

      const stored = await ids(alice);
      expect(stored).toHaveLength(41);
      expect(stored.filter((id) => id === first.id)).toHaveLength(1);
      expect(await owner.unreadCount(tenant, userId)).toBe(41);
    });

    it('does not bring back a deleted notification, redelivered or re-published', async () => {
      const note = published(tenant, 1, 'evt-1');
      await fanOut.store(alice, note, EXPIRES_AT);
      await owner.remove(tenant, userId, note.id);

      expect(await fanOut.store(alice, note, EXPIRES_AT)).toEqual({ fresh: false });
      // The re-publish, after another notification: the same id again.
      const other = published(tenant, 60, 'evt-2');
      await fanOut.store(alice, other, EXPIRES_AT);
      expect((await fanOut.store(alice, note, EXPIRES_AT)).fresh).toBe(false);

      expect(await ids(alice)).toEqual([other.id]);
      expect(await owner.unreadCount(tenant, userId)).toBe(1);
    });

    it('does not bring back a redelivery of a deleted notification, however many came between', async () => {
      const first = published(tenant, 0, 'evt-0');
      await fanOut.store(alice, first, EXPIRES_AT);
      await owner.remove(tenant, userId, first.id);
      // Newest first, as listed; read ones and other deleted ones among them.
      const between = series(tenant, 40, 1).reverse();
      for (const note of between) await fanOut.store(alice, note, EXPIRES_AT);
      const read = between.slice(0, 10);
      const deleted = between.slice(10, 20);
      await owner.markRead(
        tenant,
        userId,
        read.map((note) => note.id),
      );
      for (const note of deleted) await owner.remove(tenant, userId, note.id);

      expect(await fanOut.store(alice, first, EXPIRES_AT)).toEqual({ fresh: false });
      expect(await fanOut.store(alice, { ...first, read: true }, EXPIRES_AT)).toEqual({
        fresh: false,
      });
      for (const note of deleted) {
        expect(await fanOut.store(alice, note, EXPIRES_AT)).toEqual({ fresh: false });
      }

      expect(await ids(alice)).toEqual([...read, ...between.slice(20)].map((note) => note.id));
      expect(await owner.unreadCount(tenant, userId)).toBe(20);
    });

    it('files a new event id of the same event as a new notification: the ledger decides', async () => {
      const first = published(tenant, 0, 'evt-0');
      await fanOut.store(alice, first, EXPIRES_AT);
      // What a re-publish after the idempotency horizon becomes: its own publish time and id.
      const later = published(tenant, 1000, 'evt-0');

      expect(await fanOut.store(alice, later, EXPIRES_AT)).toEqual({ fresh: true });

      expect(await ids(alice)).toEqual([later.id, first.id]);
      expect(await owner.unreadCount(tenant, userId)).toBe(2);
    });

    it('keeps users and tenants apart: the same notification is fresh for each', async () => {
      const note = published(tenant, 1, 'evt-1');
      const bob: Recipient = { kind: 'user', tenant, userId: unique('bob') };
      const elsewhere: Recipient = { kind: 'user', tenant: unique('other'), userId };

      for (const recipient of [alice, bob, elsewhere]) {
        expect(await fanOut.store(recipient, note, EXPIRES_AT)).toEqual({ fresh: true });
      }
      expect(await owner.unreadCount(elsewhere.tenant, userId)).toBe(1);
      expect(await owner.unreadCount(tenant, userId)).toBe(1);
    });

    it("files a topic's history once per id, without read state or event recognition", async () => {
      const topic = unique('project');
      const news: Recipient = { kind: 'topic', tenant, topic };
      const note = published(tenant, 1, 'evt-1', { topic, read: true });
      const republished = published(tenant, 60, 'evt-1', { topic });

      expect(await fanOut.store(news, note, EXPIRES_AT)).toEqual({ fresh: true });
      expect(await fanOut.store(news, note, EXPIRES_AT)).toEqual({ fresh: false });
      // Which topic events were published already is the fan-out's event ledger's to know.
      expect(await fanOut.store(news, republished, EXPIRES_AT)).toEqual({ fresh: true });

      expect((await owner.list(news, { limit: 10 })).items).toEqual([
        republished,
        { ...note, read: false },
      ]);
    });
  });
}
