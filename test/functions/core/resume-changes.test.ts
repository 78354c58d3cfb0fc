/** `resume`'s `changes`: the kinds that changed while the client was away, through the socket. */
import { describe, expect, it } from 'vitest';
import type { RecordedChange } from '#core/changes';
import { toConnection } from '#core/connections';
import { type Caller, createMessageHandler } from '#core/messages';
import type { Identity, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { createReplay, DEFAULT_REPLAY_SETTINGS } from '#core/replay';
import { createChangeReport } from '#core/resume-changes';
import {
  FakeChangeLog,
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeReplaySource,
} from '#test/support/fakes';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const MARGIN = 60_000;
const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };
const caller: Caller = { identity, connectionId: 'conn-1', connectedAt: NOW - 3_600_000 };
const alice: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };

function recorded(kind: string, publishedAt: number): RecordedChange {
  return {
    kind,
    type: 'events-changed',
    id: notificationId(publishedAt, 'acme', `${kind}-${publishedAt}`),
    at: new Date(publishedAt).toISOString(),
    recordedAt: publishedAt,
  };
}

async function setup() {
  const store = new FakeConnectionStore();
  await store.put(toConnection(identity, caller.connectionId, caller.connectedAt), 0);
  const clock = new FakeClock(NOW);
  const delivery = new FakeDelivery();
  const source = new FakeReplaySource();
  const log = new FakeChangeLog();
  const handle = createMessageHandler({
    connections: store,
    replay: createReplay({ source, delivery, clock, settings: DEFAULT_REPLAY_SETTINGS }),
    presence: createPresence({
      connections: store,
      delivery,
      clock,
      settings: DEFAULT_PRESENCE_SETTINGS,
    }),
    inbox: {
      markRead: async () => ({ unread: 0, unseen: 0, notFound: [] }),
      markAllRead: async () => ({ unread: 0, unseen: 0 }),
      state: async () => ({ unread: 0, unseen: 0 }),
    },
    changes: createChangeReport({ changes: log, settings: { marginMs: MARGIN, concurrency: 4 } }),
  });
  const send = async (frame: Record<string, unknown>) =>
    (await handle(JSON.stringify({ requestId: 'r1', ...frame }), caller)).frame;
  const keep = { expiresAt: 0, keep: 100 };
  return { send, log, source, keep };
}

describe('handleMessage: resume reports changes', () => {
  const cursor = notificationId(NOW - 10 * MARGIN, 'acme', 'seen');

  it('with a change cursor alone: replays nothing, reports each kind changed since', async () => {
    const { send, log, keep } = await setup();
    const away = recorded('doc.1', NOW - 60_000);
    await log.note(alice, recorded('doc.0', NOW - 20 * MARGIN), keep);
    await log.note(alice, away, keep);

    expect(await send({ action: 'resume', changesSince: cursor })).toEqual({
      type: 'reply',
      requestId: 'r1',
      ok: true,
      result: {
        replayed: 0,
        more: false,
        changes: [{ kind: 'doc.1', type: 'events-changed', id: away.id, at: away.at }],
      },
    });
  });

  it("covers the connection's subscribed topics", async () => {
    const { send, log, keep } = await setup();
    expect(await send({ action: 'subscribe', topics: ['project.7'] })).toMatchObject({ ok: true });
    const topic: Recipient = { kind: 'topic', tenant: 'acme', topic: 'project.7' };
    await log.note(topic, recorded('streams-changed', NOW - 1000), keep);
    await log.note(
      { kind: 'topic', tenant: 'acme', topic: 'project.8' },
      recorded('elsewhere', NOW - 1000),
      keep,
    );

    const reply = await send({ action: 'resume', changesSince: cursor });
    expect(reply).toMatchObject({ result: { changes: [{ kind: 'streams-changed' }] } });
  });

  it('reports changes since the notification cursor when the client has no change cursor', async () => {
    const { send, log, source, keep } = await setup();
    const seen = {
      id: cursor,
      eventId: 'seen',
      type: 'comment.created',
      createdAt: new Date(NOW - 10 * MARGIN).toISOString(),
      read: false,
      seen: false,
      archived: false,
      interacted: false,
    };
    source.add(alice, seen);
    await log.note(alice, recorded('doc.1', NOW - 1000), keep);
    const reply = await send({ action: 'resume', since: cursor });
    expect(reply).toMatchObject({
      ok: true,
      result: { replayed: 0, changes: [{ kind: 'doc.1' }] },
    });
  });

  it('reports changes in the first round only, not with "after"', async () => {
    const { send, log, source, keep } = await setup();
    source.add(alice, {
      id: cursor,
      eventId: 'seen',
      type: 'comment.created',
      createdAt: new Date(NOW - 10 * MARGIN).toISOString(),
      read: false,
      seen: false,
      archived: false,
      interacted: false,
    });
    await log.note(alice, recorded('doc.1', NOW - 1000), keep);
    const reply = await send({ action: 'resume', since: cursor, after: cursor });
    expect(reply).toMatchObject({ ok: true });
    expect((reply as { result: object }).result).not.toHaveProperty('changes');
  });

  it.each([
    [{}, /"since" \(a notification id\) or "changesSince"/],
    [{ changesSince: 'garbage' }, /"changesSince" must be the id of a change/],
    [{ changesSince: cursor, after: cursor }, /"after" must be the "last"/],
  ])('refuses %j as bad_request, saying why', async (args, message) => {
    const { send } = await setup();
    expect(await send({ action: 'resume', ...args })).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(message) },
    });
  });
});
