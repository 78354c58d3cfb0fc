import { describe, expect, it } from 'vitest';
import { toConnection } from '../../../functions/core/connections';
import { toAuthorizerContext } from '../../../functions/core/identity';
import type { Identity } from '../../../functions/core/model';
import { makeHandler } from '../../../functions/handlers/message';
import { FakeConnectionStore, webSocketEvent } from '../../support/fakes';

const identity: Identity = { tenant: 'acme', userId: 'alice', topicPatterns: ['project.*'] };
const CONNECTED_AT = Date.parse('2026-11-23T11:00:00.000Z');

async function setup() {
  const store = new FakeConnectionStore();
  await store.put(toConnection(identity, 'conn-1', CONNECTED_AT), 0);
  const handler = makeHandler({ connections: store });
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
  return { store, send };
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
});
