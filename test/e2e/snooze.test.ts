/**
 * Snooze end to end on the launched local stack: the HTTP API hides a notification, the
 * wake-up (the deployed handler, on a clock the test moves forward instead of waiting real
 * minutes) brings it back unread and unseen to a real `ws` client, and the counts equal the
 * rows in DynamoDB Local at every step.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPartition } from '#adapters/dynamo-keys';
import { type Clock, systemClock } from '#core/ports';
import { type E2e, eventually, roundTrip, startE2e, type TestClient } from '#test/support/e2e';

const HOUR = 3_600_000;
const TENANT = 'snoozers';

/** The wake-up's clock: real time plus an offset the test only ever moves forward. */
const clock: Clock & { offset: number } = {
  offset: 0,
  now: () => Date.now() + clock.offset,
  sleep: systemClock.sleep,
};

let e2e: E2e;

beforeAll(async () => {
  // The timer runs too, rarely: the test runs the wake-up itself, when it has moved the clock.
  e2e = await startE2e({ snoozeClock: clock, snoozeSweepIntervalMs: 3_600_000 });
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(userId: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${e2e.stack.urls.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await e2e.token(userId, { tenant: TENANT })}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function ok(userId: string, method: string, path: string, body?: unknown) {
  const answer = await call(userId, method, path, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

const snooze = (userId: string, id: string, until: number | string) =>
  call(userId, 'POST', `/notifications/${id}/snooze`, {
    until: typeof until === 'number' ? new Date(until).toISOString() : until,
  });

async function listedIds(userId: string, query = ''): Promise<string[]> {
  const page = await ok(userId, 'GET', `/notifications?limit=100${query}`);
  return (page.items as Array<{ id: string }>).map((item) => item.id);
}

/** The counts as the rows in the table say: neither counts an archived or snoozed row. */
async function countsOfRows(userId: string): Promise<{ unread: number; unseen: number }> {
  const { Items = [] } = await e2e.doc.send(
    new QueryCommand({
      TableName: e2e.stack.tables.notifications,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
      ExpressionAttributeValues: { ':pk': userPartition(TENANT, userId), ':n': 'N#' },
      ConsistentRead: true,
    }),
  );
  const shown = Items.filter((row) => row.archived !== true && row.snoozedUntil === undefined);
  return {
    unread: shown.filter((row) => row.read !== true).length,
    unseen: shown.filter((row) => row.seen !== true).length,
  };
}

async function expectCountsMatchRows(userId: string, expected: { unread: number; unseen: number }) {
  const counts = await ok(userId, 'GET', '/notifications/unread-count');
  expect({ unread: counts.unread, unseen: counts.unseen }).toEqual(expected);
  expect(await countsOfRows(userId)).toEqual(expected);
}

/** Publishes `n` notifications to the user and waits until all are listed; newest first. */
async function inboxOf(userId: string, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) {
    await e2e.publish({
      id: `evt-${randomUUID()}`,
      type: 'task.assigned',
      tenant: TENANT,
      to: { users: [userId] },
      title: `Task ${i}`,
    });
  }
  let ids: string[] = [];
  await eventually(async () => {
    ids = await listedIds(userId);
    expect(ids).toHaveLength(n);
  });
  return ids;
}

function framesOf(client: TestClient, type: string) {
  return client.frames.filter((frame) => frame.type === type);
}

describe('snooze, end to end', () => {
  it('hides a notification, then brings it back unread, unseen and pushed when due', async () => {
    const user = `sam-${randomUUID()}`;
    const [a, b, c] = await inboxOf(user, 3);
    if (!a || !b || !c) throw new Error('three notifications expected');
    await ok(user, 'POST', `/notifications/${a}/read`);
    const socket = await e2e.connect(user, { tenant: TENANT });
    await expectCountsMatchRows(user, { unread: 2, unseen: 3 });

    const snoozed = await snooze(user, a, Date.now() + HOUR);
    expect(snoozed.status).toBe(200);
    expect(snoozed.body).toMatchObject({ unread: 2, unseen: 2 });
    expect(await listedIds(user)).toEqual([b, c]);
    await expectCountsMatchRows(user, { unread: 2, unseen: 2 });
    await eventually(() =>
      expect(framesOf(socket, 'state').at(-1)).toMatchObject({ unread: 2, unseen: 2 }),
    );

    // Not due yet: the wake-up leaves it.
    expect(await e2e.stack.sweepSnoozed()).toMatchObject({ woken: 0 });
    expect(await listedIds(user)).toEqual([b, c]);

    const pushedBefore = socket.notifications().length;
    clock.offset += HOUR + 2 * 60_000;
    expect(await e2e.stack.sweepSnoozed()).toMatchObject({ woken: 1, problems: 0 });

    await eventually(() => expect(socket.notifications()).toHaveLength(pushedBefore + 1));
    expect(socket.notifications().at(-1)).toMatchObject({
      id: a,
      read: false,
      seen: false,
      archived: false,
    });
    expect(socket.notifications().at(-1)?.snoozedUntil).toBeUndefined();
    await eventually(() =>
      expect(framesOf(socket, 'state').at(-1)).toMatchObject({ unread: 3, unseen: 3 }),
    );
    // The notification frame came before the counts that include it.
    const last = (type: string) => socket.frames.findLastIndex((frame) => frame.type === type);
    expect(last('notification')).toBeLessThan(last('state'));
    expect(await listedIds(user)).toEqual([a, b, c]);
    await expectCountsMatchRows(user, { unread: 3, unseen: 3 });

    // A re-run over the same minutes is a no-op: nothing woken, nothing pushed.
    const framesBefore = socket.frames.length;
    expect(await e2e.stack.sweepSnoozed()).toMatchObject({ woken: 0, stale: 0 });
    await roundTrip(socket);
    expect(socket.frames.length).toBe(framesBefore + 1); // the pong
    await expectCountsMatchRows(user, { unread: 3, unseen: 3 });
  });

  it('unsnoozes at once, and a moved snooze wakes only at its new time', async () => {
    const user = `kim-${randomUUID()}`;
    const [a, b] = await inboxOf(user, 2);
    if (!a || !b) throw new Error('two notifications expected');
    const socket = await e2e.connect(user, { tenant: TENANT });
    const base = clock.now(); // the wake-up's now: every snooze here lies beyond it

    expect((await snooze(user, a, base + 2 * HOUR)).status).toBe(200);
    await expectCountsMatchRows(user, { unread: 1, unseen: 1 });
    expect(await ok(user, 'POST', `/notifications/${a}/unsnooze`)).toMatchObject({
      unread: 2,
      unseen: 2,
    });
    await eventually(() => expect(socket.notifications().map((n) => n.id)).toContain(a));
    expect(await listedIds(user)).toEqual([a, b]);
    // Unsnoozing one not snoozed changes nothing.
    expect(await ok(user, 'POST', `/notifications/${a}/unsnooze`)).toMatchObject({ unread: 2 });

    // Snoozing again moves the time: the first time finds it no longer snoozed until then.
    expect((await snooze(user, b, base + 3 * HOUR)).status).toBe(200);
    expect((await snooze(user, b, base + 5 * HOUR)).status).toBe(200);
    await expectCountsMatchRows(user, { unread: 1, unseen: 1 });

    clock.offset += 4 * HOUR;
    const early = await e2e.stack.sweepSnoozed();
    expect(early.woken).toBe(0);
    expect(await listedIds(user)).toEqual([a]);

    clock.offset += 2 * HOUR;
    expect((await e2e.stack.sweepSnoozed()).woken).toBe(1);
    expect(await listedIds(user)).toEqual([a, b]);
    await expectCountsMatchRows(user, { unread: 2, unseen: 2 });
  });

  it('refuses a bad snooze with a 400 naming the rule, and an unknown id with 404', async () => {
    const user = `lee-${randomUUID()}`;
    const [a] = await inboxOf(user, 1);
    if (!a) throw new Error('one notification expected');
    const now = Date.now();
    for (const [until, message] of [
      [now - 60_000, 'until must be in the future'],
      [now + 91 * 24 * HOUR, 'until must be at most 90 days away'],
      ['tomorrow', 'until must be an ISO 8601 time'],
    ] as const) {
      const answer = await snooze(user, a, until);
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(message);
    }
    const missing = await snooze(user, '01JD3Z8Y0000000000000000AB', now + HOUR);
    expect(missing.status).toBe(404);
    await expectCountsMatchRows(user, { unread: 1, unseen: 1 });
  });
});
