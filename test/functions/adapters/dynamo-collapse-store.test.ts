import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { parseEnvelope } from '#core/envelope';
import { notificationId } from '#core/notification-id';
import type { CollapseCandidate, CollapseSlot } from '#core/ports';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);
let local: DynamoLocal;
let store: DynamoCollapseStore;
let slots = 0;

beforeAll(async () => {
  local = await startDynamoLocal();
  store = new DynamoCollapseStore(local.doc, local.tables.notifications);
});

afterAll(async () => {
  await local?.stop();
});

/** A slot of its own for each test. */
function freshSlot(kind: 'user' | 'topic' = 'user'): CollapseSlot {
  slots++;
  return {
    recipient:
      kind === 'user'
        ? { kind: 'user', tenant: 'acme', userId: `user-${slots}` }
        : { kind: 'topic', tenant: 'acme', topic: `project.${slots}` },
    collapseKey: 'post.42',
  };
}

function candidate(seq: number): CollapseCandidate {
  const publishedAt = T0 + seq;
  return {
    id: notificationId(publishedAt, 'acme', `evt-${seq}`),
    envelope: parseEnvelope({
      id: `evt-${seq}`,
      type: 'comment.created',
      tenant: 'acme',
      to: { users: ['alice'] },
      title: `#${seq}`,
      data: { seq, nested: { list: [1, 'two'] } },
      collapseKey: 'post.42',
    }),
    publishedAt,
  };
}

const window = (now: number) => ({ now, windowEnds: now + 200 });

// What every CollapseStore does runs as the contract in test/contracts/, against this adapter
// too; these cases also read the slot back (`read`) or its item, which are this adapter's own.
describe('DynamoCollapseStore', () => {
  it('closes with the latest it gathered, and settles keeping it as what was delivered', async () => {
    const slot = freshSlot('topic');
    await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
    await store.offer(slot, candidate(9), window(T0 + 1), EXPIRES_AT);
    expect(await store.close(slot, candidate(0).id)).toEqual(candidate(9));
    // Closing again (a resumed claimant) reads the same.
    expect(await store.close(slot, candidate(0).id)).toEqual(candidate(9));
    expect(await store.settle(slot, candidate(0).id, candidate(9), EXPIRES_AT)).toBe(true);
    expect(await store.read(slot)).toEqual({
      kind: 'settled',
      lastWindowId: candidate(0).id,
      latest: candidate(9),
    });
  });

  it('after settling, refuses what is not newer and opens a new window for what is', async () => {
    const slot = freshSlot();
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
    expect(await store.read(slot)).toMatchObject({
      kind: 'open',
      windowId: candidate(600).id,
      closing: false,
    });
  });

  it('adopts only the window it read, and then closes and settles only for the adopter', async () => {
    const slot = freshSlot();
    await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
    await store.close(slot, candidate(0).id);
    const stale = { windowId: candidate(0).id, latestId: candidate(0).id };
    const claim = { windowId: candidate(5000).id, windowEnds: T0 + 5200, latest: candidate(5000) };

    expect(
      await store.adopt(slot, { ...stale, latestId: candidate(1).id }, claim, EXPIRES_AT),
    ).toBe(false);
    expect(await store.adopt(slot, stale, claim, EXPIRES_AT)).toBe(true);
    expect(await store.read(slot)).toEqual({
      kind: 'open',
      windowId: candidate(5000).id,
      windowEnds: T0 + 5200,
      closing: false,
      latest: candidate(5000),
    });
    // The old claimant, late: its window is gone.
    expect(await store.close(slot, candidate(0).id)).toBeUndefined();
    expect(await store.settle(slot, candidate(0).id, candidate(0), EXPIRES_AT)).toBe(false);
  });

  it('gives exactly one claim to concurrent first envelopes', async () => {
    const slot = freshSlot();
    const offers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((seq) => store.offer(slot, candidate(seq), window(T0), EXPIRES_AT)),
    );
    expect(offers.filter((offer) => offer.kind === 'claimed')).toHaveLength(1);
    // Whatever the order, the slot ends up holding the newest of them.
    await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
    const state = await store.read(slot);
    expect(state?.latest).toEqual(candidate(6));
  });

  it('keeps the slot beside the recipient’s notifications, with a TTL', async () => {
    const slot = freshSlot();
    await store.offer(slot, candidate(0), window(T0), EXPIRES_AT);
    const { Item } = await local.doc.send(
      new GetCommand({
        TableName: local.tables.notifications,
        Key: { pk: `U#acme#user-${slots}`, sk: 'COLLAPSE#post.42' },
      }),
    );
    expect(Item).toMatchObject({ expiresAt: EXPIRES_AT, latestId: candidate(0).id });
  });
});
