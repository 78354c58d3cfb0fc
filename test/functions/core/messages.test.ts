import { describe, expect, it } from 'vitest';
import { toConnection } from '../../../functions/core/connections';
import { BadRequestError } from '../../../functions/core/errors';
import {
  type Caller,
  createMessageHandler,
  MAX_TOPICS_PER_REQUEST,
} from '../../../functions/core/messages';
import type { Identity } from '../../../functions/core/model';
import { FakeConnectionStore } from '../../support/fakes';

const identity: Identity = {
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: ['project.*', 'org.acme.>'],
};
const caller: Caller = { identity, connectionId: 'conn-1', connectedAt: 1_790_000_000_000 };

async function setup() {
  const store = new FakeConnectionStore();
  await store.put(toConnection(identity, caller.connectionId, caller.connectedAt), 0);
  const handle = createMessageHandler({ connections: store });
  const send = (frame: unknown) =>
    handle(typeof frame === 'string' ? frame : JSON.stringify(frame), caller);
  const topics = async () => (await store.get(caller.connectionId))?.topics;
  return { store, send, topics };
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
    const { store } = await setup();
    const handle = createMessageHandler({ connections: store });
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
    expect(await topics()).toEqual(['project.42', 'org.acme.team.a']);
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
