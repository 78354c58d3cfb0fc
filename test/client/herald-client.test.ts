/** The facade: frames dispatched by type, the request helpers, and the shared presence topic. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { presenceTopic } from '#client/herald-client';
import { closeHarnesses, connected, NEWER, notification, OLDER, setup } from './harness';

afterEach(closeHarnesses);

describe('HeraldClient', () => {
  it('connects with the token in the query string and dispatches frames by type', async () => {
    const harness = await setup({ token: 'static-token' });
    const states: unknown[] = [];
    const errors: { code: string }[] = [];
    let pongs = 0;
    harness.client.on('state', (state) => states.push(state));
    harness.client.on('error', (error) => errors.push(error));
    harness.client.on('pong', () => {
      pongs += 1;
    });

    await connected(harness);
    const server = harness.gateway.connection(1);
    expect(server.token).toBe('static-token');
    expect(harness.events).toEqual([{ state: 'connecting', attempt: 0 }, { state: 'open' }]);

    server.send({ type: 'notification', notification: notification(NEWER) });
    server.send({ type: 'from-the-future', payload: 1 });
    server.send('not json');
    server.send({ type: 'notification', notification: notification(OLDER) });
    server.send({ type: 'notification', notification: notification(NEWER) });
    server.send({ type: 'state', unread: 2 });
    server.send({
      type: 'state',
      unread: 3,
      unseen: 1,
      state: { unread: 3, unseen: 1, drafts: 4 },
    });
    server.send({ type: 'error', error: { code: 'bad_frame', message: 'frame is not JSON' } });
    server.send({ type: 'pong' });
    await vi.waitFor(() => expect(pongs).toBe(1));

    expect(harness.notifications.map((n) => n.id)).toEqual([NEWER, OLDER]);
    expect(harness.notifications[0]).toEqual(notification(NEWER));
    expect(harness.client.lastNotificationId).toBe(NEWER);
    // An older server's frame: unseen is unread, the hash is the counts alone.
    expect(states).toEqual([
      { unread: 2, unseen: 2, state: { unread: 2, unseen: 2 } },
      { unread: 3, unseen: 1, state: { unread: 3, unseen: 1, drafts: 4 } },
    ]);
    expect(errors).toEqual([{ code: 'bad_frame', message: 'frame is not JSON' }]);
  });

  it('marks read, asks for state and presence, and dispatches presence frames', async () => {
    const harness = await setup();
    const states: unknown[] = [];
    const presence: { user: string; online: boolean }[] = [];
    harness.client.on('state', (state) => states.push(state));
    harness.client.on('presence', (change) => presence.push(change));
    harness.gateway.onFrame = (connection, frame) => {
      const answer = (result: Record<string, unknown>) =>
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
      if (frame.action === 'markRead') answer({ unread: frame.all === true ? 0 : 4, notFound: [] });
      else if (frame.action === 'state') answer({ unread: 5 });
      else if (frame.action === 'presence')
        connection.send(
          `{"type":"reply","requestId":"${String(frame.requestId)}","ok":true,` +
            '"result":{"online":{"bob":true,"__proto__":false}}}',
        );
      else return false;
      return true;
    };
    await connected(harness);

    expect(await harness.client.markRead([NEWER])).toEqual({ unread: 4 });
    expect(await harness.client.markAllRead()).toEqual({ unread: 0 });
    const five = { unread: 5, unseen: 5, state: { unread: 5, unseen: 5 } };
    expect(await harness.client.refreshState()).toEqual(five);
    const online = await harness.client.presence(['bob', '__proto__']);
    expect(Object.keys(online)).toEqual(['bob', '__proto__']);
    expect(online.bob).toBe(true);
    expect(Object.getPrototypeOf(online)).toBe(Object.prototype);

    const sent = harness.gateway.connection(1).frames.map(({ requestId: _r, ...rest }) => rest);
    expect(sent).toEqual([
      { action: 'markRead', ids: [NEWER] },
      { action: 'markRead', all: true },
      { action: 'state' },
      { action: 'presence', users: ['bob', '__proto__'] },
    ]);
    expect(states).toEqual([five]);

    harness.gateway.connection(1).send({ type: 'presence', user: 'bob', online: false });
    harness.gateway.connection(1).send({ type: 'presence', user: 'bob' });
    harness.gateway.connection(1).send({ type: 'pong' });
    await vi.waitFor(() => expect(presence).toEqual([{ user: 'bob', online: false }]));
  });

  it('names presence topics only for user ids that are one topic token', () => {
    expect(presenceTopic('bob')).toBe('presence.bob');
    expect(presenceTopic('bob_1-x')).toBe('presence.bob_1-x');
    expect(presenceTopic('bob.smith')).toBeUndefined();
    expect(presenceTopic('bob@example.com')).toBeUndefined();
    expect(presenceTopic('')).toBeUndefined();
  });

  it('keeps the last state hash as client.state and tells state listeners every one', async () => {
    const harness = await setup();
    const states: unknown[] = [];
    harness.client.on('state', (state) => states.push(state));
    expect(harness.client.state.unread).toBe(0);
    await connected(harness);
    const server = harness.gateway.connection(1);
    const hash = { plan: 'pro', drafts: 2, beta: true, unread: 1, unseen: 1 };
    server.send({ type: 'state', unread: 1, unseen: 1, state: hash });
    await vi.waitFor(() => expect(states).toHaveLength(1));
    expect(states).toEqual([{ unread: 1, unseen: 1, state: hash }]);
    expect(harness.client.state.state).toEqual(hash);
    expect(harness.client.state.unread).toBe(1);
    // Values other than strings, numbers and booleans are not part of a hash.
    server.send({ type: 'state', unread: 0, unseen: 0, state: { nested: { a: 1 }, drafts: 3 } });
    await vi.waitFor(() => expect(states).toHaveLength(2));
    expect(harness.client.state.state).toEqual({ drafts: 3, unread: 0, unseen: 0 });
  });
});
