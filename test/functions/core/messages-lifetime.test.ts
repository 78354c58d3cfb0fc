/** The frames `messages.ts` routes to the connection-lifetime and frame-rate modules. */
import { describe, expect, it } from 'vitest';
import { toConnection } from '#core/connections';
import { UnauthorizedError } from '#core/errors';
import type { FrameGate } from '#core/frame-rate';
import { type Caller, createMessageHandler, type MessageDeps } from '#core/messages';
import type { Identity } from '#core/model';
import { createTokenRefresh } from '#core/token-refresh';
import { FakeConnectionStore } from '#test/support/fakes';

const identity: Identity = {
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: [],
  tokenExpiresAt: 100,
};
const caller: Caller = { identity, connectionId: 'c1', connectedAt: 0 };

async function setup(options: { frameGate?: FrameGate; withRefresh?: boolean } = {}) {
  const store = new FakeConnectionStore();
  await store.put(toConnection(identity, 'c1', 0), 0);
  const unused = async () => {
    throw new Error('not used here');
  };
  const deps: MessageDeps = {
    connections: store,
    replay: { resume: unused },
    presence: { query: unused },
    inbox: { markRead: unused, markAllRead: unused, state: unused },
    frameGate: options.frameGate,
    refresh:
      options.withRefresh === false
        ? undefined
        : createTokenRefresh({
            verifier: {
              verify: async (token) => {
                if (token === 'bad') throw new UnauthorizedError('bad signature');
                return { ...identity, tokenExpiresAt: 500 };
              },
            },
            lifetimes: store,
          }),
  };
  const handle = createMessageHandler(deps);
  return { store, send: (frame: unknown) => handle(JSON.stringify(frame), caller) };
}

describe('handleMessage: refresh', () => {
  it('replies ok with the expiry the connection now holds', async () => {
    const { store, send } = await setup();
    const { frame } = await send({ action: 'refresh', requestId: 'r1', token: 'good' });
    expect(frame).toEqual({ type: 'reply', requestId: 'r1', ok: true, result: { expiresAt: 500 } });
    expect((await store.get('c1'))?.tokenExpiresAt).toBe(500);
  });

  it('answers a refused token with an error reply, the socket kept', async () => {
    const { send } = await setup();
    const { frame, error } = await send({ action: 'refresh', requestId: 'r1', token: 'bad' });
    expect(frame).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(error).toBeUndefined();
  });

  it('is refused where no verifier is wired', async () => {
    const { send } = await setup({ withRefresh: false });
    const { frame } = await send({ action: 'refresh', requestId: 'r1', token: 'good' });
    expect(frame).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });
});

describe('handleMessage: frame gate', () => {
  it('answers a refused frame with rate_limited under its requestId, without running it', async () => {
    const refused = { code: 'rate_limited', message: 'slow down' };
    const { store, send } = await setup({ frameGate: async () => refused });
    const { frame } = await send({ action: 'refresh', requestId: 'r9', token: 'good' });
    expect(frame).toEqual({ type: 'reply', requestId: 'r9', ok: false, error: refused });
    expect((await store.get('c1'))?.tokenExpiresAt).toBe(100);
  });

  it('counts unreadable frames too', async () => {
    let seen = 0;
    const { send } = await setup({
      frameGate: async () => {
        seen++;
        return undefined;
      },
    });
    await send('not json at all');
    expect(seen).toBe(1);
  });

  it('lets the frame through when the budget cannot be read, and reports why', async () => {
    const failure = new Error('DynamoDB unavailable');
    const { send } = await setup({
      frameGate: async () => {
        throw failure;
      },
    });
    const outcome = await send({ action: 'ping' });
    expect(outcome).toEqual({ frame: { type: 'pong' }, error: failure });
  });
});
