/**
 * Filters, counts per filter and bulk actions end to end on the launched local stack
 * (issue 13): every list and count is checked against the rows read from DynamoDB (the
 * filter applied to them by `matchesFilter`, the rule every plan follows); each bulk action
 * runs over 10,000 notifications seeded through the real item builder, calling again with
 * its cursor while it answers 202, then the counts are checked against the rows, a live
 * socket has the final state frame, and a retry changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromItem } from '#adapters/dynamo-notification-items';
import { type InboxFilter, matchesFilter } from '#core/inbox-filter';
import { type E2e, eventually, startE2e } from '#test/support/e2e';
import { countsOfRows, rowsOf, rowsWithWrongKeys, seedInbox } from '#test/support/inbox-rows';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'acme';
const owner = (userId: string) => ({ kind: 'user' as const, tenant: TENANT, userId });
const newUser = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function call(method: string, path: string, userId: string, body?: unknown) {
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

/** What the rows say the filter selects, newest first. */
async function expectedIds(userId: string, filter: InboxFilter): Promise<string[]> {
  const rows = await rowsOf(e2e.doc, e2e.stack.tables.notifications, owner(userId));
  return rows
    .map(fromItem)
    .filter((note) => matchesFilter(note, filter))
    .map((note) => note.id)
    .sort()
    .reverse();
}

/** Every page of a filtered list, following cursors. */
async function listAll(userId: string, query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const answer = await call(
      'GET',
      `/notifications?limit=7${query}${cursor ? `&cursor=${cursor}` : ''}`,
      userId,
    );
    expect(answer.status).toBe(200);
    const page = answer.body as { items: Array<{ id: string }>; cursor?: string };
    ids.push(...page.items.map((item) => item.id));
    cursor = page.cursor;
  } while (cursor);
  return ids;
}

const FILTERS: Array<[string, InboxFilter]> = [
  ['', {}],
  ['&tag=billing', { tag: 'billing' }],
  ['&type=invoice.due', { type: 'invoice.due' }],
  ['&topic=project.42', { topic: 'project.42' }],
  ['&read=false', { read: false }],
  ['&read=true', { read: true }],
  ['&seen=false', { seen: false }],
  ['&seen=true&tag=team', { seen: true, tag: 'team' }],
  ['&archived=true', { archived: true }],
  ['&archived=true&read=false', { archived: true, read: false }],
  ['&snoozed=true', { snoozed: true }],
  ['&unread=true&type=comment.created', { read: false, type: 'comment.created' }],
];

describe('filters and counts', () => {
  it('lists and counts each filter exactly as the rows say', async () => {
    const user = newUser('filters');
    await seedInbox(e2e.doc, e2e.stack.tables.notifications, owner(user), 60, (i) => ({
      type: i % 3 === 0 ? 'invoice.due' : 'comment.created',
      ...(i % 4 === 0 ? { topic: 'project.42' } : {}),
      ...(i % 5 === 0 ? { tags: ['billing'] } : i % 5 === 1 ? { tags: ['team', 'billing'] } : {}),
      read: i % 2 === 0,
      seen: i % 3 !== 1,
      archived: i % 7 === 0,
      ...(i % 11 === 0 ? { snoozedUntil: '2099-01-01T00:00:00.000Z' } : {}),
    }));

    for (const [query, filter] of FILTERS) {
      const expected = await expectedIds(user, filter);
      expect({ query, ids: await listAll(user, query) }).toEqual({ query, ids: expected });
    }
    const named = Object.fromEntries(
      FILTERS.slice(1, 11).map(([, filter], i) => [`tab${i}`, filter]),
    );
    const answer = await call('POST', '/notifications/counts', user, { filters: named });
    expect(answer.status).toBe(200);
    const rows = await rowsOf(e2e.doc, e2e.stack.tables.notifications, owner(user));
    const expectedCounts = Object.fromEntries(
      await Promise.all(
        Object.entries(named).map(async ([name, filter]) => [
          name,
          (await expectedIds(user, filter)).length,
        ]),
      ),
    );
    expect(answer.body).toEqual({ counts: expectedCounts, ...countsOfRows(rows) });
  }, 120_000);

  it('refuses a bad filter with 400 naming the field', async () => {
    const user = newUser('bad');
    for (const [query, named] of [
      ['?tag=has%20space', 'tag'],
      ['?read=yes', 'read'],
      ['?type=Upper', 'type'],
      ['?topic=..', 'topic'],
    ] as const) {
      const answer = await call('GET', `/notifications${query}`, user);
      expect(answer.status).toBe(400);
      expect(String((answer.body.error as { message: string }).message)).toContain(named);
    }
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, {}]));
    expect((await call('POST', '/notifications/counts', user, { filters: tooMany })).status).toBe(
      400,
    );
    const unknown = await call('POST', '/notifications/counts', user, {
      filters: { a: { colour: 'red' } },
    });
    expect(unknown.status).toBe(400);
    const badAction = await call('POST', '/notifications/bulk', user, { action: 'burn' });
    expect(badAction).toMatchObject({ status: 400 });
    expect(String((badAction.body.error as { message: string }).message)).toContain('action');
  });
});

/** Runs a bulk action to its end, calling again with the cursor while it answers 202. */
async function bulkToEnd(user: string, body: Record<string, unknown>) {
  let answer = await call('POST', '/notifications/bulk', user, body);
  let calls = 1;
  let changed = Number(answer.body.changed);
  while (answer.status === 202) {
    expect(answer.body).toMatchObject({ done: false, cursor: expect.any(String) });
    answer = await call('POST', '/notifications/bulk', user, {
      ...body,
      upTo: answer.body.upTo,
      cursor: answer.body.cursor,
    });
    changed += Number(answer.body.changed);
    calls += 1;
  }
  expect(answer.status).toBe(200);
  return { last: answer.body, changed, calls };
}

const LARGE = 10_000;

describe('bulk actions over 10,000 notifications', () => {
  it.each([
    ['read', {}, { unread: 0, unseen: LARGE }],
    ['seen', {}, { unread: LARGE, unseen: 0 }],
    ['archive', {}, { unread: 0, unseen: 0 }],
    ['delete', {}, { unread: 0, unseen: 0 }],
  ] as const)(
    '%s: counts exact, the final state pushed, a retry a no-op',
    async (action, filter, counts) => {
      const user = newUser(`bulk-${action}`);
      const table = e2e.stack.tables.notifications;
      await seedInbox(e2e.doc, table, owner(user), LARGE);
      const client = await e2e.connect(user, { tenant: TENANT });

      const { last, changed } = await bulkToEnd(user, { action, filter });
      expect(changed).toBe(LARGE);
      expect(last).toMatchObject({ done: true, ...counts, upTo: expect.any(String) });

      const rows = await rowsOf(e2e.doc, table, owner(user));
      expect(rows).toHaveLength(action === 'delete' ? 0 : LARGE);
      expect(rowsWithWrongKeys(rows)).toEqual([]);
      expect(countsOfRows(rows)).toEqual(counts);
      expect((await call('GET', '/notifications/unread-count', user)).body).toEqual(counts);
      await eventually(() =>
        expect(client.frames.filter((frame) => frame.type === 'state').at(-1)).toEqual({
          type: 'state',
          ...counts,
          state: counts,
        }),
      );

      const retry = await call('POST', '/notifications/bulk', user, {
        action,
        filter,
        upTo: last.upTo,
      });
      expect(retry).toMatchObject({ status: 200, body: { changed: 0, ...counts } });
    },
    600_000,
  );

  it('unarchives by filter only the archived ones up to upTo', async () => {
    const user = newUser('bulk-unarchive');
    const table = e2e.stack.tables.notifications;
    await seedInbox(e2e.doc, table, owner(user), LARGE, (i) => ({
      archived: true,
      tags: i % 2 === 0 ? ['billing'] : ['team'],
    }));
    const { changed } = await bulkToEnd(user, {
      action: 'unarchive',
      filter: { archived: true, tag: 'billing' },
    });
    expect(changed).toBe(LARGE / 2);
    const rows = await rowsOf(e2e.doc, table, owner(user));
    expect(rowsWithWrongKeys(rows)).toEqual([]);
    expect(countsOfRows(rows)).toEqual({ unread: LARGE / 2, unseen: LARGE / 2 });
    expect(
      (
        await call('POST', '/notifications/counts', user, {
          filters: { archived: { archived: true }, billing: { tag: 'billing' } },
        })
      ).body,
    ).toEqual({
      counts: { archived: LARGE / 2, billing: LARGE / 2 },
      unread: LARGE / 2,
      unseen: LARGE / 2,
    });
  }, 600_000);
});
