/**
 * The unread count, through both sides of the inbox: a Query of the unread index, so it
 * is exact however a row came or went (a store that died after its Put, a deletion from
 * outside, an expiry), and under concurrent changes.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { notificationKey, toItem } from '#adapters/dynamo-notification-items';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Notification } from '#core/model';
import type { DynamoLocal } from '#test/support/dynamo-local';
import {
  EXPIRES_AT,
  notification,
  republished,
  startInboxTable,
  storeMany,
  unreadStored,
  user,
} from '#test/support/inbox-fixtures';

let local: DynamoLocal;
let fanOut: DynamoFanOutInbox;
let owner: DynamoOwnerInbox;

beforeAll(async () => {
  ({ local, fanOut, owner } = await startInboxTable());
});

afterAll(async () => {
  await local?.stop();
});

/** Deletes a row as DynamoDB's TTL does: outside Herald, no read-state change with it. */
async function deleteOutside(userId: string, id: string): Promise<void> {
  await local.doc.send(
    new DeleteCommand({
      TableName: local.tables.notifications,
      Key: notificationKey(user(userId), id),
    }),
  );
}

describe('a count that cannot drift', () => {
  /** The fan-out's first write alone, through the one item mapping: the row, nothing else. */
  async function putRowOnly(userId: string): Promise<Notification> {
    const note = notification();
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: {
          ...toItem(user(userId), note),
          ...notificationKey(user(userId), note.id),
          expiresAt: EXPIRES_AT,
        },
      }),
    );
    return note;
  }

  it('counts a row whose second write never came (a store that died between its writes)', async () => {
    await storeMany(fanOut, user('rosa'), 2);
    const note = await putRowOnly('rosa');

    expect(await owner.unreadCount('acme', 'rosa')).toBe(3);
    expect(await owner.markRead('acme', 'rosa', [note.id])).toMatchObject({
      missing: [],
      unreadDelta: -1,
    });
    expect(await owner.markAllRead('acme', 'rosa')).toMatchObject({ missing: [], unreadDelta: -2 });
    expect(await owner.unreadCount('acme', 'rosa')).toBe(0);
  });

  it('stays exact when the store fails after its Put, and when it is retried', async () => {
    let failures = 0;
    const failing = Object.create(local.doc) as typeof local.doc;
    failing.send = (async (command: unknown) => {
      const result = await local.doc.send(command as never);
      // The store's one write is lost on the way back once, after the row went in.
      if (command instanceof PutCommand && failures === 0) {
        failures++;
        throw new Error('connection reset');
      }
      return result;
    }) as typeof local.doc.send;
    const storing = new DynamoFanOutInbox(failing, local.tables.notifications);
    const note = notification();

    await expect(storing.store(user('sam'), note, EXPIRES_AT)).rejects.toThrow('connection reset');
    expect(await owner.unreadCount('acme', 'sam')).toBe(1);
    expect(await storing.store(user('sam'), note, EXPIRES_AT)).toEqual({ fresh: false });
    expect(await owner.unreadCount('acme', 'sam')).toBe(1);
    expect(await unreadStored(local, 'acme', 'sam')).toBe(1);
    expect(await owner.markAllRead('acme', 'sam')).toMatchObject({ missing: [], unreadDelta: -1 });
    expect(await owner.unreadCount('acme', 'sam')).toBe(0);
  });

  it('follows an unread row deleted outside Herald (as TTL deletes), and read-all reaches 0', async () => {
    const notes = await storeMany(fanOut, user('tara'), 3);
    await deleteOutside('tara', notes[1]?.id ?? '');

    expect(await owner.unreadCount('acme', 'tara')).toBe(2);
    expect((await owner.list(user('tara'), { limit: 10 })).items).toHaveLength(2);
    expect(await owner.markAllRead('acme', 'tara')).toMatchObject({ missing: [], unreadDelta: -2 });
    expect(await owner.unreadCount('acme', 'tara')).toBe(0);
  });

  it('stops counting an unread row once its expiresAt passes, before TTL deletes it', async () => {
    const clock = { now: Date.UTC(2029, 5, 1) };
    const later = new DynamoOwnerInbox(local.doc, local.tables.notifications, {
      now: () => clock.now,
    });
    const [soon, afterwards] = Array.from({ length: 2 }, () => notification());
    if (!soon || !afterwards) throw new Error('made nothing');
    await fanOut.store(user('uma'), soon, Math.floor(clock.now / 1000) + 60);
    await fanOut.store(user('uma'), afterwards, EXPIRES_AT);

    expect(await later.unreadCount('acme', 'uma')).toBe(2);
    clock.now += 60_000;
    expect(await later.unreadCount('acme', 'uma')).toBe(1);
    expect(await later.markAllRead('acme', 'uma')).toMatchObject({ missing: [], unreadDelta: -1 });
    expect(await later.unreadCount('acme', 'uma')).toBe(0);
    // The expired row is still in the table, unread, until TTL deletes it.
    expect(await unreadStored(local, 'acme', 'uma')).toBe(1);
  });
});

describe('the unread count under concurrent changes (property)', () => {
  type Op =
    | { kind: 'store'; n: number }
    | { kind: 'republish'; n: number }
    | { kind: 'read'; ns: number[] }
    | { kind: 'unread'; n: number }
    | { kind: 'readAll' }
    | { kind: 'remove'; n: number }
    | { kind: 'expire'; n: number };

  const SLOTS = 4;
  const slot = fc.nat(SLOTS - 1);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('store' as const), n: slot }),
    fc.record({ kind: fc.constant('republish' as const), n: slot }),
    fc.record({
      kind: fc.constant('read' as const),
      ns: fc.uniqueArray(slot, { minLength: 1, maxLength: SLOTS }),
    }),
    fc.record({ kind: fc.constant('unread' as const), n: slot }),
    fc.constant({ kind: 'readAll' as const }),
    fc.record({ kind: fc.constant('remove' as const), n: slot }),
    fc.record({ kind: fc.constant('expire' as const), n: slot }),
  );
  let run = 0;

  /**
   * Stores through a client whose one write lags by up to 20 ms, as it may in Lambda, so
   * stores land among the marks and deletes in any order.
   */
  function laggingInbox(): DynamoFanOutInbox {
    const lagging = Object.create(local.doc) as typeof local.doc;
    lagging.send = (async (command: unknown) => {
      if (command instanceof PutCommand) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
      return local.doc.send(command as never);
    }) as typeof local.doc.send;
    return new DynamoFanOutInbox(lagging, local.tables.notifications);
  }

  it('equals the stored unread flags once settled, never negative meanwhile; read-all then reaches 0', async () => {
    const storing = laggingInbox();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(op, fc.nat(12)), { minLength: 2, maxLength: 14 }),
        fc.uniqueArray(slot, { maxLength: SLOTS }),
        async (ops, seeded) => {
          run += 1;
          const userId = `prop-${run}`;
          const recipient = user(userId);
          const notes = Array.from({ length: SLOTS }, () => notification());
          const at = (n: number) => notes[n] ?? notification();
          for (const n of seeded) await fanOut.store(recipient, at(n), EXPIRES_AT);

          const observed: number[] = [];
          let running = true;
          const observer = (async () => {
            while (running) observed.push(await owner.unreadCount('acme', userId));
          })();
          try {
            await Promise.all(
              ops.map(async ([step, delayMs]) => {
                await new Promise((resolve) => setTimeout(resolve, delayMs));
                switch (step.kind) {
                  case 'store':
                    return storing.store(recipient, at(step.n), EXPIRES_AT);
                  case 'republish':
                    return storing.store(
                      recipient,
                      republished(at(step.n), delayMs + 1),
                      EXPIRES_AT,
                    );
                  case 'read':
                    return owner.markRead(
                      'acme',
                      userId,
                      step.ns.map((n) => at(n).id),
                    );
                  case 'unread':
                    return owner.markUnread('acme', userId, at(step.n).id);
                  case 'readAll':
                    return owner.markAllRead('acme', userId);
                  case 'remove':
                    return owner.remove('acme', userId, at(step.n).id);
                  case 'expire':
                    return deleteOutside(userId, at(step.n).id);
                }
              }),
            );
          } finally {
            running = false;
            await observer;
          }

          expect(observed.every((count) => count >= 0)).toBe(true);
          expect(await owner.unreadCount('acme', userId)).toBe(
            await unreadStored(local, 'acme', userId),
          );
          await owner.markAllRead('acme', userId);
          expect(await owner.unreadCount('acme', userId)).toBe(0);
          expect(await unreadStored(local, 'acme', userId)).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
