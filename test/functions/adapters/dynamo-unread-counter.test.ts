/**
 * The unread count on the user's STATE item, through both sides of the inbox: a
 * notification stored but not yet counted, and the count under concurrent changes.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import type { Notification } from '#core/model';
import type { DynamoLocal } from '#test/support/dynamo-local';
import {
  EXPIRES_AT,
  notification,
  rawItem,
  republished,
  startInboxTable,
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

describe('a notification stored but not yet counted', () => {
  /** The fan-out's first write without its second: the item is there, the count is not. */
  async function putUncounted(userId: string): Promise<Notification> {
    const note = notification();
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: { ...note, pk: `U#acme#${userId}`, sk: `N#${note.id}`, expiresAt: EXPIRES_AT },
      }),
    );
    return note;
  }

  it('waits for the pending count before marking it read, so the count never dips below zero', async () => {
    const note = await putUncounted('rosa');
    const sleeps: number[] = [];
    const waiting = new DynamoOwnerInbox(local.doc, local.tables.notifications, {
      sleep: async (ms) => {
        sleeps.push(ms);
        // The fan-out's second write lands while the mark waits.
        if (sleeps.length === 1) {
          expect(await owner.unreadCount('acme', 'rosa')).toBe(0);
          await local.doc.send(
            new UpdateCommand({
              TableName: local.tables.notifications,
              Key: { pk: 'U#acme#rosa', sk: 'STATE' },
              UpdateExpression: 'ADD unread :one',
              ExpressionAttributeValues: { ':one': 1 },
            }),
          );
        }
      },
    });

    expect(await waiting.markRead('acme', 'rosa', [note.id])).toEqual({
      missing: [],
      unreadDelta: -1,
    });
    expect(sleeps).toHaveLength(1);
    expect(await owner.unreadCount('acme', 'rosa')).toBe(0);
  });

  it('clamps at zero when the count never comes (a store that died between its writes)', async () => {
    const note = await putUncounted('sam');
    const sleeps: number[] = [];
    const waiting = new DynamoOwnerInbox(local.doc, local.tables.notifications, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    expect(await waiting.remove('acme', 'sam', note.id)).toEqual({
      missing: [],
      unreadDelta: -1,
    });
    expect(sleeps.length).toBeGreaterThan(1);
    expect(await rawItem(local, 'U#acme#sam', 'STATE')).toMatchObject({ unread: 0 });
    expect(await owner.get('acme', 'sam', note.id)).toBeUndefined();
  });
});

describe('the unread count under concurrent changes (property)', () => {
  type Op =
    | { kind: 'store'; n: number }
    | { kind: 'republish'; n: number }
    | { kind: 'read'; ns: number[] }
    | { kind: 'unread'; n: number }
    | { kind: 'readAll' }
    | { kind: 'remove'; n: number };

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
  );
  let run = 0;

  /**
   * Stores through a client whose second write (the count) lags behind its first by up to
   * 20 ms, as it may in Lambda: the window in which a stored item is not yet counted.
   */
  function laggingInbox(): DynamoFanOutInbox {
    const lagging = Object.create(local.doc) as typeof local.doc;
    lagging.send = (async (command: unknown) => {
      if (command instanceof UpdateCommand) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
      return local.doc.send(command as never);
    }) as typeof local.doc.send;
    return new DynamoFanOutInbox(lagging, local.tables.notifications);
  }

  it('equals the stored unread flags once settled, and is never negative meanwhile', async () => {
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
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
