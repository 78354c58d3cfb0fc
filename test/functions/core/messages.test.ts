import { describe, expect, it } from 'vitest';
import { toConnection } from '#core/connections';
import { BadRequestError } from '#core/errors';
import {
  type Caller,
  createMessageHandler,
  MAX_TOPICS_PER_REQUEST,
  type MessageDeps,
  type MessageLimits,
} from '#core/messages';
import type { Identity, Notification } from '#core/model';
import { notificationId } from '#core/notification-id';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { createReplay, DEFAULT_REPLAY_SETTINGS } from '#core/replay';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeReplaySource,
} from '#test/support/fakes';

const identity: Identity = {
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: ['project.*', 'org.acme.>'],
};
const caller: Caller = { identity, connectionId: 'conn-1', connectedAt: 1_790_000_000_000 };

/** Records what the socket asked of the inbox service; answers with a made-up count. */
class RecordingReadState
  implements Pick<MessageDeps['inbox'], 'markRead' | 'markAllRead' | 'state'>
{
  readonly calls: unknown[][] = [];
  unread = 3;
  async markRead(owner: { tenant: string; userId: string }, ids: string[]) {
    this.calls.push(['markRead', owner.tenant, owner.userId, ids]);
    return { unread: this.unread, unseen: this.unread, notFound: [] };
  }
  async markAllRead(owner: { tenant: string; userId: string }) {
    this.calls.push(['markAllRead', owner.tenant, owner.userId]);
    return { unread: 0, unseen: this.unread };
  }
  async state(owner: { tenant: string; userId: string }) {
    this.calls.push(['state', owner.tenant, owner.userId]);
    return { unread: this.unread, unseen: this.unread };
  }
}

const NOW = Date.parse('2026-11-23T12:00:00Z');

async function setup(grant: Partial<Identity> = {}, limits?: MessageLimits) {
  const store = new FakeConnectionStore();
  const me: Caller = { ...caller, identity: { ...identity, ...grant } };
  await store.put(toConnection(me.identity, me.connectionId, me.connectedAt), 0);
  const delivery = new FakeDelivery();
  const clock = new FakeClock(NOW);
  const source = new FakeReplaySource();
  const inbox = new RecordingReadState();
  const deps: MessageDeps = {
    connections: store,
    replay: createReplay({
      source,
      delivery,
      clock,
      settings: { ...DEFAULT_REPLAY_SETTINGS, retentionSeconds: 3600 },
    }),
    presence: createPresence({
      connections: store,
      delivery,
      clock,
      settings: DEFAULT_PRESENCE_SETTINGS,
    }),
    inbox,
    limits,
  };
  const handle = createMessageHandler(deps);
  const send = (frame: unknown) =>
    handle(typeof frame === 'string' ? frame : JSON.stringify(frame), me);
  const topics = async () => (await store.get(caller.connectionId))?.topics;
  return { store, send, topics, deps, delivery, source, inbox };
}

describe('handleMessage: framing', () => {
  it('answers ping with pong', async () => {
    const { send } = await setup();
    const outcome = await send({ action: 'ping' });
    expect(outcome.frame).toEqual({ type: 'pong' });
    expect(JSON.stringify(outcome.frame)).toBe('{"type":"pong"}');
    expect(outcome.error).toBeUndefined();
  });

  it('echoes the requestId on pong', async () => {
    const { send } = await setup();
    expect((await send({ action: 'ping', requestId: 'r1' })).frame).toEqual({
      type: 'pong',
      requestId: 'r1',
    });
  });

  it.each([['not json'], ['{"action":'], [''], ['   ']])(
    'answers a frame that is not JSON (%j) with bad_frame',
    async (body) => {
      const { send } = await setup();
      const { frame } = await send(body);
      expect(frame).toEqual({
        type: 'error',
        error: { code: 'bad_frame', message: expect.any(String) },
      });
    },
  );

  it('answers an absent body with bad_frame', async () => {
    const { deps } = await setup();
    const handle = createMessageHandler(deps);
    expect((await handle(undefined, caller)).frame).toMatchObject({
      type: 'error',
      error: { code: 'bad_frame' },
    });
  });

  it.each([[{}], [{ action: 42 }], [{ action: '' }], [null], [[1, 2]], ['"ping"']])(
    'answers JSON without a string action (%j) with bad_frame',
    async (input) => {
      const { send } = await setup();
      const body = typeof input === 'string' ? input : JSON.stringify(input);
      expect((await send(body)).frame).toMatchObject({
        type: 'error',
        error: { code: 'bad_frame' },
      });
    },
  );

  it('replies with bad_frame, echoing the requestId, when a frame with one lacks an action', async () => {
    const { send } = await setup();
    expect((await send({ requestId: 'r7', topics: ['project.1'] })).frame).toEqual({
      type: 'reply',
      requestId: 'r7',
      ok: false,
      error: { code: 'bad_frame', message: expect.any(String) },
    });
  });

  it.each(['resumeAll', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'answers the unknown action %s with unknown_action',
    async (action) => {
      const { send } = await setup();
      expect((await send({ action, requestId: 'r2' })).frame).toEqual({
        type: 'reply',
        requestId: 'r2',
        ok: false,
        error: { code: 'unknown_action', message: expect.stringContaining(action) },
      });
      expect((await send({ action })).frame).toMatchObject({
        type: 'error',
        error: { code: 'unknown_action' },
      });
    },
  );
});

describe('handleMessage: subscribe and unsubscribe', () => {
  it('subscribes to allowed topics and stores them', async () => {
    const { send, topics } = await setup();
    const outcome = await send({
      action: 'subscribe',
      requestId: 'r1',
      topics: ['project.42', 'org.acme.team.a', 'project.42'],
    });
    expect(outcome.frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { topics: ['project.42', 'org.acme.team.a'] },
    });
    // Stored as a set: the store reads them back sorted.
    expect(await topics()).toEqual(['org.acme.team.a', 'project.42']);
  });

  it('replies ok without a requestId when none was given', async () => {
    const { send } = await setup();
    expect((await send({ action: 'subscribe', topics: ['project.1'] })).frame).toEqual({
      type: 'reply',
      ok: true,
      result: { topics: ['project.1'] },
    });
  });

  it('refuses a topic outside the token patterns as forbidden, storing nothing', async () => {
    const { send, topics } = await setup();
    const { frame } = await send({ action: 'subscribe', requestId: 'r1', topics: ['billing.7'] });
    expect(frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('billing.7') },
    });
    expect(await topics()).toEqual([]);
  });

  it('is all or nothing: a list mixing allowed and forbidden topics stores none', async () => {
    const { send, topics } = await setup();
    const { frame } = await send({
      action: 'subscribe',
      requestId: 'r1',
      topics: ['project.1', 'billing.7', 'project.2'],
    });
    expect(frame).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await topics()).toEqual([]);
  });

  it.each([
    ['an invalid topic name', ['project..1']],
    ['a wildcard', ['project.*']],
    ['no topics', []],
    ['a non-string topic', [42]],
    [
      'more than the limit',
      Array.from({ length: MAX_TOPICS_PER_REQUEST + 1 }, (_, i) => `project.${i}`),
    ],
  ])('refuses %s with bad_request, storing nothing', async (_what, list) => {
    const { send, topics } = await setup();
    const { frame, error } = await send({ action: 'subscribe', requestId: 'r1', topics: list });
    expect(frame).toMatchObject({
      type: 'reply',
      requestId: 'r1',
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(error).toBeUndefined();
    expect(await topics()).toEqual([]);
  });

  it("refuses a subscribe past the connection's cap as a whole, keeping what it held", async () => {
    const limits = { subscriptionsPerConnection: 3, idsPerRequest: 5, presenceUsers: 5 };
    const { send, topics } = await setup({}, limits);
    await send({ action: 'subscribe', topics: ['project.1', 'project.2'] });

    const { frame, error } = await send({
      action: 'subscribe',
      requestId: 'r1',
      topics: ['project.2', 'project.3', 'project.4'],
    });
    expect(frame).toMatchObject({ ok: false, error: { code: 'too_many_subscriptions' } });
    expect(error).toBeUndefined();
    expect(await topics()).toEqual(['project.1', 'project.2']);
    // Topics already held do not count twice: this fills the cap exactly.
    const fits = await send({ action: 'subscribe', topics: ['project.2', 'project.3'] });
    expect(fits.frame).toMatchObject({ ok: true });
    expect(await topics()).toEqual(['project.1', 'project.2', 'project.3']);
  });

  it('accepts exactly the limit of topics', async () => {
    const { send, topics } = await setup();
    const list = Array.from({ length: MAX_TOPICS_PER_REQUEST }, (_, i) => `project.${i}`);
    expect((await send({ action: 'subscribe', topics: list })).frame).toMatchObject({ ok: true });
    expect(await topics()).toHaveLength(MAX_TOPICS_PER_REQUEST);
  });

  it('refuses a subscribe without topics as bad_request', async () => {
    const { send } = await setup();
    expect((await send({ action: 'subscribe' })).frame).toMatchObject({
      type: 'error',
      error: { code: 'bad_request' },
    });
  });

  it('unsubscribes', async () => {
    const { send, topics } = await setup();
    await send({ action: 'subscribe', topics: ['project.1', 'project.2'] });
    const { frame } = await send({ action: 'unsubscribe', requestId: 'r2', topics: ['project.1'] });
    expect(frame).toEqual({
      type: 'reply',
      requestId: 'r2',
      ok: true,
      result: { topics: ['project.1'] },
    });
    expect(await topics()).toEqual(['project.2']);
  });

  it('answers a store failure with internal, leaking no error text, and hands the error back', async () => {
    const { store, send } = await setup();
    const failure = new Error('DynamoDB: ProvisionedThroughputExceeded on herald-connections');
    store.subscribe = async () => {
      throw failure;
    };
    const outcome = await send({ action: 'subscribe', requestId: 'r1', topics: ['project.1'] });
    expect(outcome.frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: false,
      error: { code: 'internal', message: 'internal error' },
    });
    expect(JSON.stringify(outcome.frame)).not.toMatch(/Dynamo|herald-connections|Provisioned/);
    expect(outcome.error).toBe(failure);
  });

  it('passes a Herald error thrown by the store to the client, not to the log', async () => {
    const { store, send } = await setup();
    store.subscribe = async () => {
      throw new BadRequestError('connection is closing');
    };
    const outcome = await send({ action: 'subscribe', requestId: 'r1', topics: ['project.1'] });
    expect(outcome.frame).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: 'connection is closing' },
    });
    expect(outcome.error).toBeUndefined();
  });
});

function stored(secondsAgo: number, eventId: string, topic?: string): Notification {
  const publishedAt = NOW - secondsAgo * 1000;
  return {
    id: notificationId(publishedAt, 'acme', eventId),
    eventId,
    type: 'comment.created',
    ...(topic === undefined ? {} : { topic }),
    createdAt: new Date(publishedAt).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
}

describe('handleMessage: resume', () => {
  it('replays what followed the cursor to this connection, then replies with the count', async () => {
    const { send, source, delivery } = await setup();
    const cursor = stored(30, 'e1');
    source.add({ kind: 'user', tenant: 'acme', userId: 'alice' }, cursor, stored(20, 'e2'));
    source.add({ kind: 'user', tenant: 'acme', userId: 'bob' }, stored(10, 'bob-1'));
    const outcome = await send({ action: 'resume', requestId: 'r1', since: cursor.id });
    expect(outcome.frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { replayed: 1, more: false, last: stored(20, 'e2').id },
    });
    expect(delivery.delivered(caller.connectionId)).toEqual([
      { type: 'notification', notification: stored(20, 'e2') },
    ]);
  });

  it("includes the connection's subscribed topics", async () => {
    const { send, source, delivery } = await setup();
    await send({ action: 'subscribe', topics: ['project.7'] });
    const cursor = stored(30, 'e1');
    source.add({ kind: 'user', tenant: 'acme', userId: 'alice' }, cursor);
    source.add({ kind: 'topic', tenant: 'acme', topic: 'project.7' }, stored(5, 't1', 'project.7'));
    source.add({ kind: 'topic', tenant: 'acme', topic: 'project.8' }, stored(6, 't2', 'project.8'));
    const { frame } = await send({ action: 'resume', requestId: 'r2', since: cursor.id });
    expect(frame).toMatchObject({ ok: true, result: { replayed: 1 } });
    expect(delivery.delivered(caller.connectionId)).toEqual([
      { type: 'notification', notification: stored(5, 't1', 'project.7') },
    ]);
  });

  it.each([
    ['garbage', 'garbage'],
    ['unknown', notificationId(NOW - 1000, 'acme', 'never')],
    ['ancient', notificationId(NOW - 2 * 3600 * 1000, 'acme', 'old')],
  ])('answers a %s cursor with resume_gap, telling the client to reload', async (_what, since) => {
    const { send, delivery } = await setup();
    const outcome = await send({ action: 'resume', requestId: 'r3', since });
    expect(outcome.frame).toEqual({
      type: 'reply',
      requestId: 'r3',
      ok: false,
      error: { code: 'resume_gap', message: expect.stringContaining('reload from the HTTP API') },
    });
    expect(outcome.error).toBeUndefined();
    expect(delivery.posts).toEqual([]);
  });

  it.each([[{}], [{ since: 42 }], [{ since: null }]])('refuses %j as bad_request', async (args) => {
    const { send } = await setup();
    expect((await send({ action: 'resume', requestId: 'r4', ...args })).frame).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });
});

describe('handleMessage: markRead and state', () => {
  it('refuses more ids than its cap as too_many_ids, marking nothing', async () => {
    const limits = { subscriptionsPerConnection: 3, idsPerRequest: 2, presenceUsers: 5 };
    const { send, inbox } = await setup({}, limits);
    const ids = ['a', 'b', 'c'];
    const { frame } = await send({ action: 'markRead', requestId: 'r1', ids });
    expect(frame).toMatchObject({ ok: false, error: { code: 'too_many_ids' } });
    expect(inbox.calls).toEqual([]);
  });

  it('marks the given ids read as the caller, and replies with the new count', async () => {
    const { send, inbox } = await setup();
    const id = notificationId(NOW, 'acme', 'e1');
    const { frame } = await send({ action: 'markRead', requestId: 'r1', ids: [id] });
    expect(frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { unread: 3, unseen: 3, notFound: [] },
    });
    expect(inbox.calls).toEqual([['markRead', 'acme', 'alice', [id]]]);
  });

  it('marks all read', async () => {
    const { send, inbox } = await setup();
    expect((await send({ action: 'markRead', requestId: 'r1', all: true })).frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { unread: 0, unseen: 3 },
    });
    expect(inbox.calls).toEqual([['markAllRead', 'acme', 'alice']]);
  });

  it.each([
    ['nothing', {}],
    ['both ids and all', { ids: ['x'], all: true }],
    ['all: false', { all: false }],
    ['an empty list', { ids: [] }],
    ['ids that are not strings', { ids: [1] }],
  ])('refuses %s as bad_request, marking nothing', async (_what, args) => {
    const { send, inbox } = await setup();
    expect((await send({ action: 'markRead', requestId: 'r1', ...args })).frame).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(inbox.calls).toEqual([]);
  });

  it("answers state with the caller's unread and unseen counts", async () => {
    const { send, inbox } = await setup();
    inbox.unread = 7;
    expect((await send({ action: 'state', requestId: 'r1' })).frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { unread: 7, unseen: 7 },
    });
    expect(inbox.calls).toEqual([['state', 'acme', 'alice']]);
  });
});

describe('handleMessage: presence', () => {
  it("says who is online in the caller's tenant only", async () => {
    const { send, store } = await setup({ topicPatterns: ['presence.*'] });
    await store.put(toConnection({ ...identity, userId: 'bob' }, 'b1', 0), 0);
    await store.put(toConnection({ ...identity, tenant: 'globex', userId: 'carol' }, 'c1', 0), 0);
    const { frame } = await send({
      action: 'presence',
      requestId: 'r1',
      users: ['alice', 'bob', 'carol'],
    });
    expect(frame).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: { online: { alice: true, bob: true, carol: false } },
    });
  });

  it.each([
    ['no users', []],
    ['an empty user id', ['']],
  ])('refuses %s as bad_request', async (_what, users) => {
    const { send } = await setup({ topicPatterns: ['presence.*'] });
    expect((await send({ action: 'presence', requestId: 'r1', users })).frame).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  // The count now has its own code (it was bad_request), as every configurable cap does.
  it('refuses more users than its cap as too_many_users', async () => {
    const { send } = await setup({ topicPatterns: ['presence.*'] });
    const users = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect((await send({ action: 'presence', requestId: 'r1', users })).frame).toMatchObject({
      ok: false,
      error: { code: 'too_many_users' },
    });
  });

  it.each([
    ['no presence grant', ['project.*'], ['bob']],
    ['a grant for someone else', ['presence.carol'], ['carol', 'bob']],
    ['a user id with no presence topic', ['presence.*', 'presence.>'], ['bob.smith']],
  ])('refuses %s as forbidden, asking nothing', async (_what, topicPatterns, users) => {
    const { send, store } = await setup({ topicPatterns });
    await store.put(toConnection({ ...identity, userId: 'bob' }, 'b1', 0), 0);
    const { frame, error } = await send({ action: 'presence', requestId: 'r1', users });
    expect(frame).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(JSON.stringify(frame)).not.toContain('online');
    expect(error).toBeUndefined();
  });
});
