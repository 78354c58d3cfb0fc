/**
 * Replay end to end on the launched local stack: a user away while notifications are
 * published (through SNS, as a service would) comes back, resumes from the last id it
 * had, and gets exactly what it missed, in order, before its reply; refused cursors say
 * so with `resume_gap`.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoReplaySource } from '#adapters/dynamo-replay-source';
import { HeraldClient, type Notification } from '#client/herald-client';
import { notificationId } from '#core/notification-id';
import {
  type E2e,
  eventually,
  LOCAL_CREDENTIALS,
  roundTrip,
  startE2e,
  type TestClient,
} from '#test/support/e2e';

let e2e: E2e;
let doc: DynamoDBDocumentClient | undefined;
let inbox: DynamoOwnerInbox;
let history: DynamoReplaySource;

beforeAll(async () => {
  e2e = await startE2e();
  doc = e2e.doc;
  inbox = new DynamoOwnerInbox(doc, e2e.stack.tables.notifications);
  history = new DynamoReplaySource(doc, e2e.stack.tables.notifications);
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const MISSED = 50;

async function close(client: TestClient): Promise<void> {
  await new Promise<void>((resolve) => {
    client.socket.once('close', () => resolve());
    client.socket.close();
  });
}

interface ResumeResult {
  replayed: number;
  more: boolean;
  last?: string;
}

/**
 * Resumes round after round while the server says there is more, as the browser client
 * does: a busy machine may take more than one round's time budget for 50 notifications.
 */
async function resumeAll(client: TestClient, since: string) {
  const replies: Array<Record<string, unknown>> = [];
  let after: string | undefined;
  let replayed = 0;
  do {
    const reply = await client.request(
      'resume',
      after === undefined ? { since } : { since, after },
    );
    expect(reply).toMatchObject({ type: 'reply', ok: true });
    replies.push(reply);
    const result = reply.result as ResumeResult;
    replayed += result.replayed;
    after = result.more ? result.last : undefined;
  } while (after !== undefined);
  return { replayed, replies };
}

function notify(user: string, eventId: string, title: string) {
  return e2e.publish({ id: eventId, type: 'comment.created', to: { users: [user] }, title });
}

describe('resume', () => {
  it('replays exactly the notifications missed while away, in order, then live ones follow', async () => {
    const user = 'alice-replay';
    const first = await e2e.connect(user);
    await notify(user, 'evt-replay-0', 'before');
    await eventually(() => expect(first.notifications()).toHaveLength(1));
    const cursor = String(first.notifications()[0]?.id);
    await close(first);

    // Published while nobody of theirs is connected; stored all the same.
    for (let i = 1; i <= MISSED; i++) await notify(user, `evt-replay-${i}`, `missed ${i}`);
    await eventually(
      async () => expect(await inbox.unreadCount('default', user)).toBe(MISSED + 1),
      60_000,
    );

    const back = await e2e.connect(user);
    const { replayed: count, replies } = await resumeAll(back, cursor);
    expect(count).toBe(MISSED);
    const reply = replies.at(-1) as Record<string, unknown>;
    expect(reply).toMatchObject({ type: 'reply', ok: true, result: { more: false } });

    const replayed = back.notifications();
    const ids = replayed.map((n) => String(n.id));
    expect(replayed).toHaveLength(MISSED);
    expect(new Set(ids).size).toBe(MISSED);
    expect(ids).toEqual([...ids].sort());
    expect(ids.every((id) => id > cursor)).toBe(true);
    expect(new Set(replayed.map((n) => n.eventId))).toEqual(
      new Set(Array.from({ length: MISSED }, (_, i) => `evt-replay-${i + 1}`)),
    );
    const lasts = replies.map((r) => (r.result as { last?: string }).last).filter(Boolean);
    expect(lasts.at(-1)).toBe(ids.at(-1));
    // The HTTP API lists the same 50 after the cursor (newest first there).
    const listed = await fetch(`${e2e.stack.urls.http}/notifications?limit=100`, {
      headers: { authorization: `Bearer ${await e2e.token(user)}` },
    });
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: Array<{ id: string }> };
    expect(items.map((n) => n.id).filter((id) => id > cursor)).toEqual([...ids].reverse());
    // Every replayed frame came before the reply.
    const replyAt = back.frames.indexOf(reply);
    const lastNotificationAt = back.frames.findLastIndex((f) => f.type === 'notification');
    expect(lastNotificationAt).toBeLessThan(replyAt);

    await notify(user, 'evt-replay-live', 'live');
    await eventually(() =>
      expect(back.notifications().map((n) => n.eventId)).toContain('evt-replay-live'),
    );
    await roundTrip(back);
    expect(back.notifications()).toHaveLength(MISSED + 1);
    expect(back.notifications().at(-1)).toMatchObject({ eventId: 'evt-replay-live' });

    // Resuming from the newest id has nothing new to give: it may only repeat what was filed
    // within the delivery margin before the cursor, which this client has already seen.
    const seen = new Set(
      [...first.notifications(), ...back.notifications()].map((n) => String(n.id)),
    );
    const framesBefore = back.frames.length;
    const again = await resumeAll(back, String(back.notifications().at(-1)?.id));
    const repeated = back.frames
      .slice(framesBefore)
      .filter((f) => f.type === 'notification')
      .map((f) => String((f.notification as { id: string }).id));
    expect(repeated.every((id) => seen.has(id))).toBe(true);
    expect(repeated).toHaveLength(again.replayed);
  }, 120_000);

  it("replays a subscribed topic's history too, merged by id", async () => {
    const user = 'carol-replay';
    const topics = ['project.*'];
    const first = await e2e.connect(user, { topics });
    expect(await first.request('subscribe', { topics: ['project.replay'] })).toMatchObject({
      ok: true,
    });
    await notify(user, 'evt-carol-0', 'before');
    await eventually(() => expect(first.notifications()).toHaveLength(1));
    const cursor = String(first.notifications()[0]?.id);
    await close(first);

    await notify(user, 'evt-carol-1', 'mine');
    await e2e.publish({
      id: 'evt-carol-topic',
      type: 'build.done',
      to: { topic: 'project.replay' },
      title: 'topic',
    });
    await notify(user, 'evt-carol-2', 'mine again');
    await eventually(async () => expect(await inbox.unreadCount('default', user)).toBe(3));
    const topic = { kind: 'topic', tenant: 'default', topic: 'project.replay' } as const;
    await eventually(async () => expect(await history.after(topic, cursor, 10)).toHaveLength(1));

    const back = await e2e.connect(user, { topics });
    expect(await back.request('subscribe', { topics: ['project.replay'] })).toMatchObject({
      ok: true,
    });
    expect(await back.request('resume', { since: cursor })).toMatchObject({
      ok: true,
      result: { replayed: 3, more: false },
    });
    expect(back.notifications()).toHaveLength(3);
    const received = back.notifications();
    expect(received.map((n) => n.eventId).sort()).toEqual(
      ['evt-carol-1', 'evt-carol-2', 'evt-carol-topic'].sort(),
    );
    const ids = received.map((n) => String(n.id));
    expect(ids).toEqual([...ids].sort());
    expect(received.find((n) => n.eventId === 'evt-carol-topic')).toMatchObject({
      topic: 'project.replay',
    });
  });

  it('answers a garbage, unknown, ancient or foreign cursor with resume_gap', async () => {
    const bob = await e2e.connect('bob-replay');
    await notify('bob-replay', 'evt-bob-1', 'bob only');
    await eventually(() => expect(bob.notifications()).toHaveLength(1));
    const bobs = String(bob.notifications()[0]?.id);

    const dave = await e2e.connect('dave-replay');
    const ancient = notificationId(Date.now() - 91 * 24 * 3600 * 1000, 'default', 'evt-old');
    const unknown = notificationId(Date.now(), 'default', 'evt-never-published');
    for (const since of ['garbage', unknown, ancient, bobs]) {
      const reply = await dave.request('resume', { since });
      expect(reply).toEqual({
        type: 'reply',
        requestId: reply.requestId,
        ok: false,
        error: {
          code: 'resume_gap',
          message: expect.stringContaining('reload from the HTTP API'),
        },
      });
    }
    expect(dave.notifications()).toEqual([]);
  });
});

describe('read state over the socket', () => {
  it("answers state, and a markRead on one device moves every device's unread count", async () => {
    const user = 'gail-state';
    const phone = await e2e.connect(user);
    const laptop = await e2e.connect(user);
    const allStates = (client: TestClient) =>
      client.frames.filter((f) => f.type === 'state').map((f) => f.unread);
    // Each socket is welcomed with its state first; the changes below come after.
    await eventually(() => {
      expect(allStates(phone)).toEqual([0]);
      expect(allStates(laptop)).toEqual([0]);
    });
    for (const i of [1, 2, 3]) await notify(user, `evt-state-${i}`, `n${i}`);
    await eventually(() => expect(laptop.notifications()).toHaveLength(3));
    await eventually(async () => expect(await inbox.unreadCount('default', user)).toBe(3));
    expect(await laptop.request('state')).toMatchObject({ ok: true, result: { unread: 3 } });

    const states = (client: TestClient) => allStates(client).slice(1);
    const first = String(laptop.notifications()[0]?.id);
    expect(await phone.request('markRead', { ids: [first] })).toMatchObject({
      ok: true,
      result: { unread: 2 },
    });
    await eventually(() => {
      expect(states(phone)).toEqual([2]);
      expect(states(laptop)).toEqual([2]);
    });
    // Marking it again changes nothing, so nobody is told anything.
    expect(await phone.request('markRead', { ids: [first] })).toMatchObject({
      result: { unread: 2 },
    });
    expect(await phone.request('markRead', { all: true })).toMatchObject({
      ok: true,
      result: { unread: 0 },
    });
    await eventually(() => expect(states(laptop)).toEqual([2, 0]));
    await roundTrip(phone);
    expect(states(phone)).toEqual([2, 0]);
    expect(await laptop.request('state')).toMatchObject({ result: { unread: 0 } });

    const refused = await laptop.request('markRead', { ids: ['not-an-id'] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});

describe('the browser client', () => {
  it('resumes by itself after losing its connection, emitting what it missed in order, once', async () => {
    const user = 'hugo-client';
    const management = new ApiGatewayManagementApiClient({
      endpoint: e2e.stack.urls.callback,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    const connections = new DynamoConnectionStore(
      doc as DynamoDBDocumentClient,
      e2e.stack.tables.connections,
    );
    // The reconnect waits for its token, which this test hands out once it has published:
    // the window in which the client misses things.
    let tokens = 0;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const client = new HeraldClient({
      url: e2e.stack.urls.websocket,
      token: async () => {
        tokens += 1;
        if (tokens > 1) await released;
        return e2e.token(user);
      },
      WebSocket,
      backoff: { initialMs: 10, maxMs: 10 },
    });
    const received: Notification[] = [];
    client.on('notification', (notification) => received.push(notification));
    try {
      client.connect();
      await eventually(() => expect(client.connectionState).toBe('open'));
      await notify(user, 'evt-client-0', 'first');
      await eventually(() => expect(received).toHaveLength(1));

      // API Gateway drops the connection (as at its 2-hour cut or a network loss).
      const [live] = (await connections.listForUser('default', user)).items;
      await management.send(new DeleteConnectionCommand({ ConnectionId: live?.connectionId }));
      await eventually(() => expect(tokens).toBe(2));
      for (const i of [1, 2, 3, 4, 5]) await notify(user, `evt-client-${i}`, `missed ${i}`);
      await eventually(async () => expect(await inbox.unreadCount('default', user)).toBe(6));
      expect(received).toHaveLength(1);
      release();

      await eventually(() => expect(received).toHaveLength(6), 20_000);
      expect(received.map((n) => n.eventId)).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => `evt-client-${i}`),
      );
      const ids = received.map((n) => n.id);
      expect(ids).toEqual([...ids].sort());
      expect(client.lastNotificationId).toBe(ids.at(-1));
      expect((await client.refreshState()).unread).toBe(6);
      expect(client.state.unread).toBe(6);
    } finally {
      client.close();
      management.destroy();
    }
  }, 60_000);
});
