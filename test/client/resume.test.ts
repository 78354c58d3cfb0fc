/** Resume and de-duplication, through the client: nothing missed across reconnects, nothing twice. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecentIds } from '#client/resume';
import {
  closeHarnesses,
  connected,
  type Frame,
  type GatewayConnection,
  NEWER,
  notification,
  OLDER,
  setup,
} from './harness';

afterEach(closeHarnesses);

describe('HeraldClient resume', () => {
  it('forgets the oldest ids beyond its limit', async () => {
    const harness = await setup({ recentIdsLimit: 2 });
    let pongs = 0;
    harness.client.on('pong', () => {
      pongs += 1;
    });
    await connected(harness);
    const server = harness.gateway.connection(1);
    for (const id of ['A1', 'A2', 'A3', 'A1', 'A3']) {
      server.send({ type: 'notification', notification: notification(id) });
    }
    server.send({ type: 'pong' });
    await vi.waitFor(() => expect(pongs).toBe(1));
    // A1 fell out of the two remembered ids when A3 arrived, so it passes again; A3 does not.
    expect(harness.notifications.map((n) => n.id)).toEqual(['A1', 'A2', 'A3', 'A1']);
  });

  it('after a reconnect re-subscribes, then resumes from the last id, in order and once each', async () => {
    const harness = await setup();
    const A = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const B = '01JBBBBBBBBBBBBBBBBBBBBBBB';
    const C = '01JCCCCCCCCCCCCCCCCCCCCCCC';
    const D = '01JDDDDDDDDDDDDDDDDDDDDDDD';
    let heldResume: [GatewayConnection, Frame] | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      heldResume = [connection, frame];
      return true;
    };
    const order: string[] = [];
    harness.client.on('notification', (n) => order.push(n.id));
    harness.client.on('resumed', ({ replayed }) => order.push(`resumed ${replayed}`));
    await connected(harness);
    await harness.client.subscribe(['demo.a']);
    harness.gateway.connection(1).send({ type: 'notification', notification: notification(A) });
    await vi.waitFor(() => expect(harness.client.lastNotificationId).toBe(A));

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(heldResume).toBeDefined());
    const [server, frame] = heldResume as [GatewayConnection, Frame];
    expect(server.frames.map((f) => f.action)).toEqual(['subscribe', 'resume']);
    expect(frame.since).toBe(A);

    // A live push overtakes the replay, and the replay repeats one already seen.
    server.send({ type: 'notification', notification: notification(D) });
    for (const id of [A, B, C])
      server.send({ type: 'notification', notification: notification(id) });
    server.send({
      type: 'reply',
      requestId: frame.requestId,
      ok: true,
      result: { replayed: 3, more: false, last: C },
    });
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(4));
    expect(harness.notifications.map((n) => n.id)).toEqual([A, B, C, D]);
    expect(harness.client.lastNotificationId).toBe(D);
    await vi.waitFor(() => expect(order).toEqual([A, B, C, D, 'resumed 3']));
  });

  it('keeps its cursor and goes on after the last replayed id while the server says there is more', async () => {
    const harness = await setup();
    const since = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const pages: Record<string, { ids: string[]; more: boolean }> = {
      [since]: { ids: ['01JB0000000000000000000000', '01JB1111111111111111111111'], more: true },
      '01JB1111111111111111111111': { ids: ['01JC0000000000000000000000'], more: false },
    };
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      if (frame.since !== since) throw new Error(`unexpected cursor ${String(frame.since)}`);
      const page = pages[String(frame.after ?? frame.since)];
      if (!page) throw new Error(`unexpected continuation ${String(frame.after)}`);
      // A live push lands between pages: it must not become the next cursor.
      connection.send({
        type: 'notification',
        notification: notification('01JZZZZZZZZZZZZZZZZZZZZZZZ'),
      });
      for (const id of page.ids)
        connection.send({ type: 'notification', notification: notification(id) });
      const result = { replayed: page.ids.length, more: page.more, last: page.ids.at(-1) };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
      return true;
    };
    await connected(harness);
    expect(await harness.client.resume(since)).toEqual({ replayed: 3 });
    expect(harness.gateway.connection(1).frames.map((f) => [f.since, f.after])).toEqual([
      [since, undefined],
      [since, '01JB1111111111111111111111'],
    ]);
    expect(harness.notifications.map((n) => n.id)).toEqual([
      '01JB0000000000000000000000',
      '01JB1111111111111111111111',
      '01JC0000000000000000000000',
      '01JZZZZZZZZZZZZZZZZZZZZZZZ',
    ]);
  });

  it('emits gap on resume_gap, forgets the cursor, and passes on what was held', async () => {
    const harness = await setup();
    const gaps: { code: string; message: string }[] = [];
    harness.client.on('gap', (gap) => gaps.push(gap));
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      connection.send({ type: 'notification', notification: notification(NEWER) });
      const error = { code: 'resume_gap', message: 'cannot resume: reload from the HTTP API' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);
    harness.gateway.connection(1).send({ type: 'notification', notification: notification(OLDER) });
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(1));

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(gaps).toHaveLength(1));
    expect(gaps[0]).toEqual({ code: 'resume_gap', message: expect.stringContaining('HTTP API') });
    await vi.waitFor(() => expect(harness.notifications.map((n) => n.id)).toEqual([OLDER, NEWER]));
    expect(harness.client.lastNotificationId).toBe(NEWER);
    await expect(harness.client.resume('01J0000000000000000000000X')).rejects.toMatchObject({
      code: 'resume_gap',
    });
    expect(gaps).toHaveLength(2);
  });

  it('does not resume on the first connection, nor without a notification seen', async () => {
    const harness = await setup();
    await connected(harness);
    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(harness.gateway.connections).toHaveLength(2));
    await harness.client.subscribe(['demo.a']);
    expect(await harness.client.resume()).toEqual({ replayed: 0 });
    const actions = harness.gateway.connections.flatMap((c) => c.frames.map((f) => f.action));
    expect(actions).toEqual(['subscribe']);
  });
});

describe('RecentIds', () => {
  it('tells a repeat from a new id, and forgets the oldest beyond its limit', () => {
    const recent = new RecentIds(2);
    expect(['A', 'B', 'A', 'C', 'A', 'C'].map((id) => recent.add(id))).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
    ]);
  });
});
