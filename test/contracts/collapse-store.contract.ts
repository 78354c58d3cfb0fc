/**
 * The `CollapseStore` contract (see `functions/core/ports.ts`): one slot per recipient and
 * collapse key, moved from window to window by single conditional writes, so that
 * concurrent invocations agree on who delivers what.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseEnvelope } from '#core/envelope';
import { notificationId } from '#core/notification-id';
import type {
  CollapseCandidate,
  CollapseSlot,
  CollapseSlotState,
  CollapseStore,
} from '#core/ports';
import { unique } from './names';
import { EXPIRES_AT } from './notifications';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const window = (now: number) => ({ now, windowEnds: now + 200 });

export function collapseStoreContract(make: () => CollapseStore): void {
  describe('CollapseStore', () => {
    let store: CollapseStore;
    let tenant: string;
    let slot: CollapseSlot;

    beforeEach(() => {
      store = make();
      tenant = unique('tenant');
      slot = {
        recipient: { kind: 'user', tenant, userId: unique('user') },
        collapseKey: 'post.42',
      };
    });

    function candidate(seq: number): CollapseCandidate {
      const publishedAt = T0 + seq;
      return {
        id: notificationId(publishedAt, tenant, `evt-${seq}`),
        envelope: parseEnvelope({
          id: `evt-${seq}`,
          type: 'comment.created',
          tenant,
          to: { users: ['alice'] },
          title: `#${seq}`,
          data: { seq, nested: { list: [1, 'two'] } },
          collapseKey: 'post.42',
        }),
        publishedAt,
      };
    }

    /** What the slot holds, as a refused offer of the oldest candidate reads it. */
    async function state(): Promise<CollapseSlotState> {
      const offer = await store.offer(slot, candidate(-1), window(T0 + 10_000), EXPIRES_AT);
      if (offer.kind !== 'refused') throw new Error(`the oldest candidate was ${offer.kind}`);
      return offer.slot;
    }

    it('lets the first envelope claim, a newer one join, and refuses an older one', async () => {
      expect(await store.offer(slot, candidate(0), window(T0), EXPIRES_AT)).toEqual({
        kind: 'claimed',
        windowEnds: T0 + 200,
      });
      expect(await store.offer(slot, candidate(5), window(T0 + 10), EXPIRES_AT)).toEqual({
        kind: 'joined',
        windowId: candidate(0).id,
        windowEnds: T0 + 200,
      });
      expect(await store.offer(slot, candidate(3), window(T0 + 20), EXPIRES_AT)).toEqual({
        kind: 'refused',
        slot: {
          kind: 'open',
          windowId: candidate(0).id,
          windowEnds: T0 + 200,
          closing: false,
          latest: candidate(5),
        },
      });
    });

    it('refuses a join once the window has ended, or is closing', async () => {
      await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
      const late = await store.offer(slot, candidate(7), window(T0 + 200), EXPIRES_AT);
      expect(late).toMatchObject({ kind: 'refused', slot: { kind: 'open', closing: false } });

      await store.close(slot, candidate(0).id);
      const closing = await store.offer(slot, candidate(8), window(T0 + 50), EXPIRES_AT);
      expect(closing).toMatchObject({ kind: 'refused', slot: { kind: 'open', closing: true } });
    });

    it('closes with the latest it gathered, again as often, and settles keeping it', async () => {
      await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
      await store.offer(slot, candidate(9), window(T0 + 1), EXPIRES_AT);

      expect(await store.close(slot, candidate(0).id)).toEqual(candidate(9));
      expect(await store.close(slot, candidate(0).id)).toEqual(candidate(9));
      expect(await store.settle(slot, candidate(0).id, candidate(9), EXPIRES_AT)).toBe(true);
      expect(await state()).toEqual({
        kind: 'settled',
        lastWindowId: candidate(0).id,
        latest: candidate(9),
      });
    });

    it('after settling, refuses what is not newer and opens a new window for what is', async () => {
      await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
      await store.close(slot, candidate(0).id);
      await store.settle(slot, candidate(0).id, candidate(0), EXPIRES_AT);

      expect(await store.offer(slot, candidate(0), window(T0 + 500), EXPIRES_AT)).toMatchObject({
        kind: 'refused',
        slot: { kind: 'settled', lastWindowId: candidate(0).id },
      });
      expect(await store.offer(slot, candidate(600), window(T0 + 600), EXPIRES_AT)).toEqual({
        kind: 'claimed',
        windowEnds: T0 + 800,
      });
    });

    it('adopts only the window it read; the old claimant can then neither close nor settle', async () => {
      await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
      await store.close(slot, candidate(0).id);
      const stale = { windowId: candidate(0).id, latestId: candidate(0).id };
      const claim = {
        windowId: candidate(5000).id,
        windowEnds: T0 + 5200,
        latest: candidate(5000),
      };

      expect(
        await store.adopt(slot, { ...stale, latestId: candidate(1).id }, claim, EXPIRES_AT),
      ).toBe(false);
      expect(await store.adopt(slot, stale, claim, EXPIRES_AT)).toBe(true);
      expect(await state()).toEqual({
        kind: 'open',
        windowId: candidate(5000).id,
        windowEnds: T0 + 5200,
        closing: false,
        latest: candidate(5000),
      });
      expect(await store.close(slot, candidate(0).id)).toBeUndefined();
      expect(await store.settle(slot, candidate(0).id, candidate(0), EXPIRES_AT)).toBe(false);
    });

    it('closes and settles nothing for a window it never had', async () => {
      expect(await store.close(slot, candidate(0).id)).toBeUndefined();
      expect(await store.settle(slot, candidate(0).id, candidate(0), EXPIRES_AT)).toBe(false);
      expect(
        await store.adopt(
          slot,
          { windowId: candidate(0).id, latestId: candidate(0).id },
          { windowId: candidate(1).id, windowEnds: T0 + 200, latest: candidate(1) },
          EXPIRES_AT,
        ),
      ).toBe(false);
    });

    it('gives exactly one claim to concurrent first envelopes, and keeps the newest', async () => {
      const offers = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((seq) => store.offer(slot, candidate(seq), window(T0), EXPIRES_AT)),
      );

      expect(offers.filter((offer) => offer.kind === 'claimed')).toHaveLength(1);
      expect((await state()).latest).toEqual(candidate(6));
    });

    it('keeps tenants, recipients and keys apart', async () => {
      await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
      const others: CollapseSlot[] = [
        { ...slot, collapseKey: 'post.43' },
        { ...slot, recipient: { ...slot.recipient, tenant: unique('tenant') } },
        { ...slot, recipient: { kind: 'user', tenant, userId: unique('user') } },
        { ...slot, recipient: { kind: 'topic', tenant, topic: 'post.42' } },
      ];
      for (const other of others) {
        expect((await store.offer(other, candidate(0), window(T0), EXPIRES_AT)).kind).toBe(
          'claimed',
        );
      }
    });
  });
}
