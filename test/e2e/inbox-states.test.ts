/**
 * The inbox states end to end on the launched local stack (issue 13): seen apart from
 * read, archive and unarchive, interact with an action, seen-all, with tags and actions
 * carried from the envelope to the row, the list and the `notification` frame. After each
 * change the counts the API answers are checked against the rows read from DynamoDB, each
 * row's index keys against its flags, and the `state` frame on a live socket.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, eventually, startE2e, type TestClient } from '#test/support/e2e';
import { countsOfRows, rowsOf, rowsWithWrongKeys, seedInbox } from '#test/support/inbox-rows';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'acme';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(method: string, path: string, userId: string, body?: unknown): Promise<Answer> {
  const token = await e2e.token(userId, { tenant: TENANT });
  const response = await fetch(`${e2e.stack.urls.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function ok(method: string, path: string, userId: string, body?: unknown) {
  const answer = await call(method, path, userId, body);
  expect(answer, `${method} ${path}`).toMatchObject({ status: 200 });
  return answer.body;
}

function owner(userId: string) {
  return { kind: 'user' as const, tenant: TENANT, userId };
}

function newUser(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The counts the API answers equal the rows', and every row's index keys its flags. */
async function expectCountsMatchRows(userId: string): Promise<{ unread: number; unseen: number }> {
  const rows = await rowsOf(e2e.doc, e2e.stack.tables.notifications, owner(userId));
  expect(rowsWithWrongKeys(rows)).toEqual([]);
  const counts = await ok('GET', '/notifications/unread-count', userId);
  expect(counts).toEqual(countsOfRows(rows));
  return countsOfRows(rows);
}

async function listedIds(userId: string, query = ''): Promise<string[]> {
  const page = (await ok('GET', `/notifications?limit=100${query}`, userId)) as {
    items: Array<{ id: string }>;
  };
  return page.items.map((item) => item.id);
}

function lastState(client: TestClient): Record<string, unknown> | undefined {
  return client.frames.filter((frame) => frame.type === 'state').at(-1);
}

describe('tags and actions', () => {
  it('carries them from the envelope to the row, the list and the notification frame', async () => {
    const user = newUser('tags');
    const client = await e2e.connect(user, { tenant: TENANT });
    const actions = [
      { label: 'Open', url: 'https://app.example/posts/42' },
      { label: 'Mute', url: 'https://app.example/mute' },
    ];
    await e2e.publish({
      id: `evt-${randomUUID()}`,
      type: 'comment.created',
      tenant: TENANT,
      to: { users: [user] },
      title: 'tagged',
      tags: ['billing', 'team:red'],
      actions,
    });

    await eventually(() => expect(client.notifications()).toHaveLength(1));
    expect(client.notifications()[0]).toMatchObject({
      tags: ['billing', 'team:red'],
      actions,
      read: false,
      seen: false,
      archived: false,
      interacted: false,
    });
    const page = (await ok('GET', '/notifications', user)) as { items: unknown[] };
    expect(page.items).toEqual([client.notifications()[0]]);
    const [row] = await rowsOf(e2e.doc, e2e.stack.tables.notifications, owner(user));
    expect(row).toMatchObject({ tags: ['billing', 'team:red'], actions });
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 1, unseen: 1 });
  });
});

describe('each state', () => {
  it('seen, archive, unarchive, interact, read, unread, seen-all and delete keep the counts the rows', async () => {
    const user = newUser('states');
    const table = e2e.stack.tables.notifications;
    const notes = await seedInbox(e2e.doc, table, owner(user), 4, (i) =>
      i === 0 ? { actions: [{ label: 'Open', url: 'https://app.example/1' }] } : {},
    );
    const [a, b, c, d] = notes.map((note) => note.id) as [string, string, string, string];
    const client = await e2e.connect(user, { tenant: TENANT });
    const expectPushed = async (counts: { unread: number; unseen: number }) => {
      await eventually(() =>
        expect(lastState(client)).toEqual({ type: 'state', ...counts, state: counts }),
      );
    };
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 4, unseen: 4 });

    // Seen is apart from read.
    expect(await ok('POST', `/notifications/${b}/seen`, user)).toEqual({ unread: 4, unseen: 3 });
    await expectPushed({ unread: 4, unseen: 3 });
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 4, unseen: 3 });

    // Archived: out of the default list and both counts; reversible.
    expect(await ok('POST', `/notifications/${c}/archive`, user)).toEqual({ unread: 3, unseen: 2 });
    await expectPushed({ unread: 3, unseen: 2 });
    expect(await listedIds(user)).toEqual([d, b, a]);
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 3, unseen: 2 });
    expect(await ok('POST', `/notifications/${c}/unarchive`, user)).toEqual({
      unread: 4,
      unseen: 3,
    });
    expect(await listedIds(user)).toEqual([d, c, b, a]);
    await expectPushed({ unread: 4, unseen: 3 });

    // Interact: only with an action the notification has.
    const noAction = await call('POST', `/notifications/${d}/interact`, user, { action: 0 });
    expect(noAction.status).toBe(400);
    expect(noAction.body).toMatchObject({ error: { message: expect.stringContaining('action') } });
    const outOfRange = await call('POST', `/notifications/${a}/interact`, user, { action: 1 });
    expect(outOfRange.status).toBe(400);
    const notANumber = await call('POST', `/notifications/${a}/interact`, user, { action: 'x' });
    expect(notANumber.status).toBe(400);
    expect(await ok('POST', `/notifications/${a}/interact`, user, { action: 0 })).toEqual({
      unread: 3,
      unseen: 2,
    });
    const [row] = (await rowsOf(e2e.doc, table, owner(user))).filter((each) => each.id === a);
    expect(row).toMatchObject({ interacted: true, read: true, seen: true });
    await expectPushed({ unread: 3, unseen: 2 });

    // Read and unread move the unread count only.
    expect(await ok('POST', `/notifications/${b}/read`, user)).toEqual({ unread: 2, unseen: 2 });
    expect(await ok('POST', `/notifications/${b}/unread`, user)).toEqual({ unread: 3, unseen: 2 });
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 3, unseen: 2 });

    // An archived notification marked unread stays out of the unread count until unarchived.
    await ok('POST', `/notifications/${c}/read`, user);
    await ok('POST', `/notifications/${c}/archive`, user);
    expect(await ok('POST', `/notifications/${c}/unread`, user)).toEqual({ unread: 2, unseen: 1 });
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 2, unseen: 1 });
    expect(await ok('POST', `/notifications/${c}/unarchive`, user)).toEqual({
      unread: 3,
      unseen: 2,
    });

    // The bell opened: everything seen, nothing read.
    expect(await ok('POST', '/notifications/seen-all', user)).toEqual({ unread: 3, unseen: 0 });
    await expectPushed({ unread: 3, unseen: 0 });
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 3, unseen: 0 });

    // Deleting leaves no row behind to count; repeating a change is no error.
    expect(await ok('DELETE', `/notifications/${d}`, user)).toEqual({ unread: 2, unseen: 0 });
    expect(await ok('POST', `/notifications/${b}/seen`, user)).toEqual({ unread: 2, unseen: 0 });
    expect((await call('POST', `/notifications/${d}/archive`, user)).status).toBe(404);
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 2, unseen: 0 });
    await ok('POST', '/notifications/read-all', user);
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 0, unseen: 0 });
  }, 120_000);

  it('keeps the socket’s markRead and state request working, with unseen beside unread', async () => {
    const user = newUser('socket');
    const [note] = await seedInbox(e2e.doc, e2e.stack.tables.notifications, owner(user), 2);
    const client = await e2e.connect(user, { tenant: TENANT });

    expect(await client.request('markRead', { ids: [note?.id] })).toMatchObject({
      ok: true,
      result: { unread: 1, unseen: 2, notFound: [] },
    });
    expect(await client.request('state')).toMatchObject({
      ok: true,
      result: { unread: 1, unseen: 2 },
    });
    await eventually(() =>
      expect(lastState(client)).toEqual({
        type: 'state',
        unread: 1,
        unseen: 2,
        state: { unread: 1, unseen: 2 },
      }),
    );
  });
});

describe('concurrency', () => {
  it('leaves the counts equal to the rows after 50 parallel seen, archive and read calls', async () => {
    const user = newUser('race');
    const table = e2e.stack.tables.notifications;
    const notes = await seedInbox(e2e.doc, table, owner(user), 50);
    const client = await e2e.connect(user, { tenant: TENANT });

    // Every notification gets a seen, an archive (half of them) and a read (a third), all at once.
    const calls = notes.flatMap((note, i) => [
      call('POST', `/notifications/${note.id}/seen`, user),
      ...(i % 2 === 0 ? [call('POST', `/notifications/${note.id}/archive`, user)] : []),
      ...(i % 3 === 0 ? [call('POST', `/notifications/${note.id}/read`, user)] : []),
    ]);
    calls.push(call('POST', '/notifications/seen-all', user));
    const answers = await Promise.all(calls);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));

    const rows = await rowsOf(e2e.doc, table, owner(user));
    expect(rows).toHaveLength(50);
    // Shown: the 25 odd ones; unread among them: those not a multiple of 3.
    const expected = {
      unread: notes.filter((_, i) => i % 2 === 1 && i % 3 !== 0).length,
      unseen: 0,
    };
    expect(countsOfRows(rows)).toEqual(expected);
    expect(await expectCountsMatchRows(user)).toEqual(expected);
    // The last frame pushed may come from any of the calls; a state request settles it.
    expect(await client.request('state')).toMatchObject({ result: expected });

    // And back: 25 parallel unarchives and 50 unreads.
    const back = await Promise.all([
      ...notes
        .filter((_, i) => i % 2 === 0)
        .map((note) => call('POST', `/notifications/${note.id}/unarchive`, user)),
      ...notes.map((note) => call('POST', `/notifications/${note.id}/unread`, user)),
    ]);
    expect(back.map((answer) => answer.status)).toEqual(back.map(() => 200));
    expect(await expectCountsMatchRows(user)).toEqual({ unread: 50, unseen: 0 });
  }, 120_000);
});
