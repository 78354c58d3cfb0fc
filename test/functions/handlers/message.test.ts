import { describe, expect, it } from 'vitest';
import { toConnection } from '#core/connections';
import { toAuthorizerContext } from '#core/identity';
import type { Identity } from '#core/model';
import { notificationId } from '#core/notification-id';
import { createPresence, DEFAULT_PRESENCE_SETTINGS } from '#core/presence';
import { createReplay, DEFAULT_REPLAY_SETTINGS } from '#core/replay';
import { makeHandler } from '#handlers/message';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDelivery,
  FakeReplaySource,
  webSocketEvent,
} from '#test/support/fakes';

const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };
const CONNECTED_AT = Date.parse('2026-11-23T11:00:00.000Z');

async function setup() {
  const store = new FakeConnectionStore();
  await store.put(toConnection(identity, 'conn-1', CONNECTED_AT), 0);
  const delivery = new FakeDelivery();
  const clock = new FakeClock(CONNECTED_AT + 3600_000);
  const source = new FakeReplaySource();
  const handler = makeHandler({
    connections: store,
    replay: createReplay({ source, delivery, clock, settings: DEFAULT_REPLAY_SETTINGS }),
    presence: createPresence({
      connections: store,
      delivery,
      clock,
      settings: DEFAULT_PRESENCE_SETTINGS,
    }),
    inbox: {
      markRead: async () => ({ unread: 1, unseen: 1, notFound: [] }),
      markAllRead: async () => ({ unread: 0, unseen: 0 }),
      state: async () => ({ unread: 2, unseen: 2 }),
    },
  });
  const send = (body: string | undefined, isBase64Encoded = false) =>
    handler(
      webSocketEvent({
        routeKey: '$default',
        connectionId: 'conn-1',
        connectedAt: CONNECTED_AT,
        authorizer: toAuthorizerContext(identity),
        body,
        isBase64Encoded,
      }),
    );
  return { store, send, source, delivery };
}

describe('message handler', () => {
  it('answers with status 200 and the reply frame as body', async () => {
    const { send } = await setup();
    expect(await send('{"action":"ping","requestId":"r1"}')).toEqual({
      statusCode: 200,
      body: '{"type":"pong","requestId":"r1"}',
    });
  });

  it('decodes a base64 body', async () => {
    const { send, store } = await setup();
    const frame = JSON.stringify({ action: 'subscribe', requestId: 'r2', topics: ['project.42'] });
    const response = await send(Buffer.from(frame).toString('base64'), true);
    expect(response).toEqual({
      statusCode: 200,
      body: JSON.stringify({
        type: 'reply',
        requestId: 'r2',
        ok: true,
        result: { topics: ['project.42'] },
      }),
    });
    expect((await store.get('conn-1'))?.topics).toEqual(['project.42']);
  });

  it('acts as the caller named by the authorizer context', async () => {
    const { send, store } = await setup();
    const response = await send('{"action":"subscribe","requestId":"r3","topics":["billing.1"]}');
    expect(JSON.parse(String((response as { body: string }).body))).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect((await store.get('conn-1'))?.topics).toEqual([]);
  });

  it('answers a bad frame with an error frame and status 200, so the socket stays open', async () => {
    const { send } = await setup();
    const response = await send('not json');
    expect(response).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(String((response as { body: string }).body))).toEqual({
      type: 'error',
      error: { code: 'bad_frame', message: expect.any(String) },
    });
  });

  it('answers an internal failure without its text', async () => {
    const { send, store } = await setup();
    store.subscribe = async () => {
      throw new Error('secret table name herald-connections');
    };
    const response = await send('{"action":"subscribe","requestId":"r4","topics":["project.1"]}');
    expect((response as { body: string }).body).not.toContain('herald-connections');
    expect(JSON.parse(String((response as { body: string }).body))).toMatchObject({
      error: { code: 'internal' },
    });
  });

  it('replays through the management API before answering, in the same invocation', async () => {
    const { send, source, delivery } = await setup();
    const at = CONNECTED_AT + 60_000;
    const notes = ['e1', 'e2', 'e3'].map((eventId, i) => ({
      id: notificationId(at + i, 'acme', eventId),
      eventId,
      type: 'comment.created',
      createdAt: new Date(at + i).toISOString(),
      read: false,
      seen: false,
      archived: false,
      interacted: false,
    }));
    source.add({ kind: 'user', tenant: 'acme', userId: 'alice' }, ...notes);
    const response = await send(
      JSON.stringify({ action: 'resume', requestId: 'r5', since: notes[0]?.id }),
    );
    expect(delivery.delivered('conn-1')).toEqual(
      notes.slice(1).map((notification) => ({ type: 'notification', notification })),
    );
    expect(response).toEqual({
      statusCode: 200,
      body: JSON.stringify({
        type: 'reply',
        requestId: 'r5',
        ok: true,
        result: { replayed: 2, more: false, last: notes[2]?.id },
      }),
    });
  });
});
