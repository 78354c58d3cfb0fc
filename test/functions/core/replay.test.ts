import { describe, expect, it } from 'vitest';
import { HeraldError } from '#core/errors';
import type { Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import {
  createReplay,
  DEFAULT_REPLAY_SETTINGS,
  RESUME_GAP_CODE,
  type ReplaySettings,
  type ResumeRequest,
} from '#core/replay';
import { FakeClock, FakeDelivery, FakeReplaySource } from '#test/support/fakes';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const alice: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };
const bob: Recipient = { kind: 'user', tenant: 'acme', userId: 'bob' };
const news: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.news' };

/** A notification published `secondsAgo` before NOW, with a real (time-sortable) id. */
function note(secondsAgo: number, eventId: string, topic?: string): Notification {
  const publishedAt = NOW - secondsAgo * 1000;
  return {
    id: notificationId(publishedAt, 'acme', eventId),
    eventId,
    type: 'comment.created',
    title: eventId,
    ...(topic === undefined ? {} : { topic }),
    createdAt: new Date(publishedAt).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
}

function setup(settings: Partial<ReplaySettings> = {}) {
  const source = new FakeReplaySource();
  const delivery = new FakeDelivery();
  const clock = new FakeClock(NOW);
  const replay = createReplay({
    source,
    delivery,
    clock,
    // No look-back unless a test asks: the fake files each notification at its publish time.
    settings: {
      ...DEFAULT_REPLAY_SETTINGS,
      retentionSeconds: 3600,
      lookbackSeconds: 0,
      deliveryMarginSeconds: 0,
      ...settings,
    },
    random: () => 0,
  });
  const resume = (since: string, extra: Partial<ResumeRequest> = {}) =>
    replay.resume({
      tenant: 'acme',
      userId: 'alice',
      connectionId: 'conn-1',
      topics: [],
      since,
      ...extra,
    });
  const replayed = (connectionId = 'conn-1') =>
    delivery.delivered(connectionId).map((frame) => {
      const { type, notification } = frame as { type: string; notification: Notification };
      expect(type).toBe('notification');
      return notification.eventId;
    });
  return { source, delivery, clock, resume, replayed };
}

describe('resume', () => {
  it('pushes every notification after the cursor to this connection, oldest first', async () => {
    const { source, resume, replayed, delivery } = setup();
    const [first, second, third, fourth] = [
      note(40, 'e1'),
      note(30, 'e2'),
      note(20, 'e3'),
      note(10, 'e4'),
    ];
    // Stored out of order and alongside another user's: neither matters.
    source.add(alice, fourth as Notification, first as Notification, third as Notification);
    source.add(alice, second as Notification);
    source.add(bob, note(15, 'bob-1'));

    expect(await resume((second as Notification).id)).toEqual({
      replayed: 2,
      more: false,
      last: (fourth as Notification).id,
    });
    expect(replayed()).toEqual(['e3', 'e4']);
    expect(delivery.delivered('conn-1')[0]).toEqual({ type: 'notification', notification: third });
    expect(new Set(delivery.posts.map((post) => post.connectionId))).toEqual(new Set(['conn-1']));
  });

  it('replays nothing when nothing followed the cursor', async () => {
    const { source, resume, delivery } = setup();
    const last = note(10, 'e1');
    source.add(alice, last);
    expect(await resume(last.id)).toEqual({ replayed: 0, more: false });
    expect(delivery.posts).toEqual([]);
  });

  it("merges the subscribed topics' histories with the inbox by id", async () => {
    const { source, resume, replayed } = setup();
    const cursor = note(60, 'e0');
    source.add(alice, cursor, note(50, 'u1'), note(20, 'u2'));
    source.add(news, note(65, 'old', 'project.news'), note(40, 't1', 'project.news'));
    source.add(news, note(10, 't2', 'project.news'));
    const result = await resume(cursor.id, { topics: ['project.news', 'project.news'] });
    expect(result).toEqual({ replayed: 4, more: false, last: note(10, 't2', 'project.news').id });
    expect(replayed()).toEqual(['u1', 't1', 'u2', 't2']);
  });

  it('resumes from a cursor that came from a subscribed topic', async () => {
    const { source, resume, replayed } = setup();
    const cursor = note(30, 't1', 'project.news');
    source.add(news, cursor);
    source.add(alice, note(20, 'u1'));
    expect(await resume(cursor.id, { topics: ['project.news'] })).toEqual({
      replayed: 1,
      more: false,
      last: note(20, 'u1').id,
    });
    expect(replayed()).toEqual(['u1']);
  });

  it.each([
    ['garbage', 'not-an-id', 'is not a notification id'],
    [
      'lower case',
      notificationId(NOW - 1000, 'acme', 'e1').toLowerCase(),
      'is not a notification id',
    ],
    ['empty', '', 'is not a notification id'],
  ])('refuses a %s cursor with resume_gap', async (_what, since, reason) => {
    const { resume, delivery } = setup();
    const refusal = resume(since);
    await expect(refusal).rejects.toBeInstanceOf(HeraldError);
    await expect(refusal).rejects.toMatchObject({
      code: RESUME_GAP_CODE,
      message: expect.stringContaining(reason),
    });
    await expect(refusal).rejects.toMatchObject({
      message: expect.stringContaining('GET /notifications'),
    });
    expect(delivery.posts).toEqual([]);
  });

  it('refuses a cursor older than the retention, even while its item is still stored', async () => {
    const { source, resume, delivery } = setup({ retentionSeconds: 3600 });
    const ancient = note(3601, 'e-old');
    source.add(alice, ancient, note(10, 'e-new'));
    await expect(resume(ancient.id)).rejects.toMatchObject({
      code: RESUME_GAP_CODE,
      message: expect.stringContaining('retention'),
    });
    expect(delivery.posts).toEqual([]);
  });

  it("refuses an unknown cursor, another user's included, with resume_gap", async () => {
    const { source, resume, delivery } = setup();
    const bobs = note(30, 'bob-1');
    source.add(bob, bobs, note(20, 'bob-2'));
    source.add(alice, note(10, 'a1'));
    for (const since of [bobs.id, notificationId(NOW - 5000, 'acme', 'never-published')]) {
      await expect(resume(since, { topics: ['project.news'] })).rejects.toMatchObject({
        code: RESUME_GAP_CODE,
        message: expect.stringContaining('not a notification of yours'),
      });
    }
    expect(delivery.posts).toEqual([]);
  });

  it('stops at its cap with more: true, and a second resume from the last id finishes', async () => {
    const { source, resume, replayed } = setup({ maxItems: 3 });
    const cursor = note(100, 'e0');
    source.add(alice, cursor, ...[1, 2, 3, 4, 5].map((n) => note(100 - n, `e${n}`)));
    const last = note(97, 'e3');
    expect(await resume(cursor.id)).toEqual({ replayed: 3, more: true, last: last.id });
    expect(replayed()).toEqual(['e1', 'e2', 'e3']);
    expect(await resume(last.id)).toEqual({ replayed: 2, more: false, last: note(95, 'e5').id });
    expect(replayed()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('reports no more when the cap is exactly what there was', async () => {
    const { source, resume } = setup({ maxItems: 2 });
    const cursor = note(100, 'e0');
    source.add(alice, cursor, note(90, 'e1'), note(80, 'e2'));
    expect(await resume(cursor.id)).toMatchObject({ replayed: 2, more: false });
  });

  it('reads each history a page at a time, only as far as it replays', async () => {
    const { source, resume } = setup({ pageSize: 2, maxItems: 3 });
    const cursor = note(100, 'e0');
    source.add(alice, cursor, ...[1, 2, 3, 4, 5, 6, 7].map((n) => note(100 - n, `e${n}`)));
    expect(await resume(cursor.id)).toMatchObject({ replayed: 3, more: true });
    // The first page starts at the cursor's millisecond, so it holds the cursor too.
    expect(source.queries.map((query) => query.limit)).toEqual([2, 2, 2]);
    expect(source.queries[1]?.afterId).toBe(note(99, 'e1').id);
  });

  it('stops with more: true when its time budget is spent', async () => {
    const { source, resume, delivery, clock, replayed } = setup({ budgetMs: 5000 });
    delivery.behaviour = () => {
      clock.time += 2000;
      return 'ok';
    };
    const cursor = note(100, 'e0');
    source.add(alice, cursor, ...[1, 2, 3, 4, 5].map((n) => note(100 - n, `e${n}`)));
    expect(await resume(cursor.id)).toEqual({ replayed: 3, more: true, last: note(97, 'e3').id });
    expect(replayed()).toEqual(['e1', 'e2', 'e3']);
  });

  it('stops quietly when the connection is gone', async () => {
    const { source, resume, delivery } = setup();
    delivery.behaviour = () => 'gone';
    const cursor = note(100, 'e0');
    source.add(alice, cursor, note(90, 'e1'), note(80, 'e2'));
    expect(await resume(cursor.id)).toEqual({ replayed: 0, more: true });
    expect(delivery.attemptsOf('conn-1')).toBe(1);
  });

  it('fails as retryable when a push keeps failing, after what it delivered', async () => {
    const { source, resume, delivery, replayed } = setup();
    delivery.behaviour = () => (delivery.posts.length >= 1 ? new Error('socket hang up') : 'ok');
    const cursor = note(100, 'e0');
    source.add(alice, cursor, note(90, 'e1'), note(80, 'e2'));
    await expect(resume(cursor.id)).rejects.toMatchObject({
      code: 'retryable',
      message: expect.stringContaining('after 1 notification'),
    });
    expect(replayed()).toEqual(['e1']);
  });

  describe('notifications filed late (a retried batch, with an id older than the cursor)', () => {
    const LOOK_BACK = { lookbackSeconds: 3600, deliveryMarginSeconds: 60, retentionSeconds: 86400 };
    /** Files `notes` as if the fan-out wrote them `secondsAgo` before NOW. */
    function fileAt(source: FakeReplaySource, secondsAgo: number, ...notes: Notification[]) {
      source.now = () => NOW - secondsAgo * 1000;
      source.add(alice, ...notes);
      source.now = undefined;
    }

    it('replays one filed after the cursor, and one filed within the margin before it', async () => {
      const { source, resume, replayed } = setup(LOOK_BACK);
      const cursor = note(100, 'cursor');
      source.add(alice, note(400, 'had'), note(130, 'in-flight'), cursor, note(90, 'next'));
      // Published 300 s ago, filed 50 s ago: after the client's cursor was.
      fileAt(source, 50, note(300, 'late'));

      expect(await resume(cursor.id)).toEqual({
        replayed: 3,
        more: false,
        last: note(90, 'next').id,
      });
      // In id order; "had" was filed well before the cursor, so the client has it.
      expect(replayed()).toEqual(['late', 'in-flight', 'next']);
    });

    it('looks back no further than its look-back', async () => {
      const { source, resume, replayed } = setup({ ...LOOK_BACK, lookbackSeconds: 600 });
      const cursor = note(100, 'cursor');
      source.add(alice, cursor);
      fileAt(source, 10, note(800, 'too-late'), note(650, 'late'));
      expect(await resume(cursor.id)).toMatchObject({ replayed: 1, more: false });
      expect(replayed()).toEqual(['late']);
    });

    it('goes on from "after" without looking back again, so many late ones finish', async () => {
      const { source, resume, replayed } = setup({ ...LOOK_BACK, maxItems: 2 });
      const cursor = note(100, 'cursor');
      source.add(alice, cursor, note(90, 'a1'), note(80, 'a2'));
      fileAt(source, 10, note(500, 'l1'), note(400, 'l2'), note(300, 'l3'));

      const rounds = [];
      let after: string | undefined;
      for (let round = 0; round < 5; round++) {
        const result = await resume(cursor.id, after === undefined ? {} : { after });
        rounds.push(result.replayed);
        if (!result.more) break;
        after = result.last;
      }
      expect(rounds).toEqual([2, 2, 1]);
      expect(replayed()).toEqual(['l1', 'l2', 'l3', 'a1', 'a2']);
    });

    it('stops in time over a long run of ones the client has, and goes on from there', async () => {
      const { source, resume, clock, replayed } = setup({
        ...LOOK_BACK,
        deliveryMarginSeconds: 0,
        pageSize: 1,
        budgetMs: 5000,
      });
      const read = source.after.bind(source);
      source.after = async (...args) => {
        clock.time += 2000;
        return read(...args);
      };
      const cursor = note(100, 'cursor');
      source.add(alice, ...[1, 2, 3, 4, 5].map((n) => note(200 - n, `had-${n}`)), cursor);
      source.add(alice, note(50, 'new'));

      const first = await resume(cursor.id);
      expect(first).toMatchObject({ replayed: 0, more: true });
      expect(first.last).toBeDefined();
      let after = first.last;
      for (let round = 0; round < 5 && after !== undefined; round++) {
        const next = await resume(cursor.id, { after });
        after = next.more ? next.last : undefined;
      }
      expect(replayed()).toEqual(['new']);
    });
  });
});
