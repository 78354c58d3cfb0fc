/** Snooze and wake on DynamoDB Local: the row's flags, its index keys and the due-listing. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationKey } from '#adapters/dynamo-notification-items';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoSnoozeInbox } from '#adapters/dynamo-snooze-inbox';
import { DynamoSnoozeListing } from '#adapters/dynamo-snooze-listing';
import { minuteOf } from '#core/snooze-sweep';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';
import { seedInbox } from '#test/support/inbox-rows';

let local: DynamoLocal;
let snoozes: DynamoSnoozeInbox;
let inbox: DynamoOwnerInbox;
let listing: DynamoSnoozeListing;
let users = 0;

beforeAll(async () => {
  local = await startDynamoLocal();
  snoozes = new DynamoSnoozeInbox(local.doc, local.tables.notifications);
  inbox = new DynamoOwnerInbox(local.doc, local.tables.notifications);
  listing = new DynamoSnoozeListing(local.doc, local.tables.notifications);
});

afterAll(async () => {
  await local?.stop();
});

const HOUR = 3_600_000;
const inAnHour = () => new Date(Date.now() + HOUR).toISOString();

async function freshInbox(count: number) {
  users += 1;
  const owner = { kind: 'user' as const, tenant: 'acme', userId: `sleepy-${users}` };
  const notes = await seedInbox(local.doc, local.tables.notifications, owner, count);
  return { owner, ids: notes.map((note) => note.id) };
}

async function rowOf(owner: { kind: 'user'; tenant: string; userId: string }, id: string) {
  const { Item } = await local.doc.send(
    new GetCommand({ TableName: local.tables.notifications, Key: notificationKey(owner, id) }),
  );
  return Item ?? {};
}

describe('DynamoSnoozeInbox', () => {
  it('hides a fresh row from every index, lists it under its minute, and moves it', async () => {
    const { owner, ids } = await freshInbox(2);
    const [id = ''] = ids;
    const until = inAnHour();

    expect(await snoozes.snooze('acme', owner.userId, id, until)).toEqual({ kind: 'snoozed' });

    const row = await rowOf(owner, id);
    expect(row).toMatchObject({ snoozedUntil: until, hiddenKey: row.sk });
    expect(row).not.toHaveProperty('unreadKey');
    expect(row).not.toHaveProperty('unseenKey');
    expect(row).not.toHaveProperty('visibleKey');
    expect(await inbox.counts('acme', owner.userId)).toEqual({ unread: 1, unseen: 1 });
    const listed = (await listing.dueIn(minuteOf(until))).items;
    expect(listed).toContainEqual({ tenant: 'acme', userId: owner.userId, id, until });

    const later = new Date(Date.now() + 2 * HOUR).toISOString();
    expect(await snoozes.snooze('acme', owner.userId, id, later)).toEqual({ kind: 'snoozed' });
    expect((await rowOf(owner, id)).snoozedUntil).toBe(later);
  });

  it('wakes only at the snooze it still holds: unread, unseen and visible, once', async () => {
    const { owner, ids } = await freshInbox(1);
    const [id = ''] = ids;
    await inbox.markRead('acme', owner.userId, [id]);
    const first = inAnHour();
    const second = new Date(Date.now() + 2 * HOUR).toISOString();
    await snoozes.snooze('acme', owner.userId, id, first);
    await snoozes.snooze('acme', owner.userId, id, second);

    expect(await snoozes.wake('acme', owner.userId, id, first)).toBeUndefined();
    const woken = await snoozes.wake('acme', owner.userId, id, second);
    expect(woken).toMatchObject({ id, read: false, seen: false, archived: false });
    expect(woken?.snoozedUntil).toBeUndefined();
    expect(await snoozes.wake('acme', owner.userId, id, second)).toBeUndefined();
    expect(await inbox.counts('acme', owner.userId)).toEqual({ unread: 1, unseen: 1 });
    expect(await rowOf(owner, id)).toMatchObject({ visibleKey: expect.any(String) });
  });

  it('refuses what it cannot snooze: missing, archived, or expiring first', async () => {
    const { owner, ids } = await freshInbox(2);
    const [archived = '', expiring = ''] = ids;
    await inbox.change('acme', owner.userId, archived, 'archive');

    expect(await snoozes.snooze('acme', owner.userId, archived, inAnHour())).toEqual({
      kind: 'archived',
    });
    // Seeded rows are kept a day.
    const past = await snoozes.snooze(
      'acme',
      owner.userId,
      expiring,
      new Date(Date.now() + 2 * 24 * HOUR).toISOString(),
    );
    expect(past).toMatchObject({ kind: 'expires-first', expiresAt: expect.any(Number) });
    expect(await snoozes.snooze('acme', 'nobody', expiring, inAnHour())).toEqual({
      kind: 'missing',
    });
    expect(await snoozes.wake('acme', owner.userId, expiring)).toBeUndefined();
  });

  it('ends the snooze of one archived meanwhile quietly: no wake to push', async () => {
    const { owner, ids } = await freshInbox(1);
    const [id = ''] = ids;
    const until = inAnHour();
    await snoozes.snooze('acme', owner.userId, id, until);
    await inbox.change('acme', owner.userId, id, 'archive');

    expect(await snoozes.wake('acme', owner.userId, id, until)).toBeUndefined();
    const row = await rowOf(owner, id);
    expect(row.snoozedUntil).toBeUndefined();
    expect(row.archived).toBe(true);
    expect(await inbox.counts('acme', owner.userId)).toEqual({ unread: 0, unseen: 0 });
  });
});
