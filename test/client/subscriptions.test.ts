/** Topic subscriptions carried over to new sockets, through the client. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeHarnesses, connected, type Frame, setup } from './harness';

afterEach(closeHarnesses);

describe('HeraldClient subscriptions', () => {
  it('drops a topic the new token refuses after a reconnect, keeping the others', async () => {
    const harness = await setup();
    const errors: { code: string; message: string }[] = [];
    harness.client.on('error', (error) => errors.push(error));
    harness.gateway.onFrame = (connection, frame) => {
      const topics = frame.topics as string[] | undefined;
      if (connection.index === 1 || frame.action !== 'subscribe') return false;
      if (!topics?.includes('demo.secret')) return false;
      const error = { code: 'forbidden', message: 'your token does not allow topic: demo.secret' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);
    await harness.client.subscribe(['demo.secret']);

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(errors).toHaveLength(1));

    expect(harness.gateway.connection(2).frames.map((f) => f.topics)).toEqual([
      ['demo.a', 'demo.secret'],
      ['demo.a'],
      ['demo.secret'],
    ]);
    expect(harness.client.subscriptions).toEqual(['demo.a']);
    expect(errors[0]?.code).toBe('forbidden');
    expect(errors[0]?.message).toContain('demo.secret');
  });

  it('carries (un)subscribes made during a rotation over to the new socket', async () => {
    const harness = await setup({ maxConnectionMs: 100_000 });
    let heldSubscribe: Frame | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'subscribe' || connection.index !== 2 || heldSubscribe) return false;
      heldSubscribe = frame;
      return true;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.clock.advance(100_000);
    await vi.waitFor(() => expect(heldSubscribe).toBeDefined());
    // Still answered on the old socket, after the new one was asked for the old topics.
    await harness.client.unsubscribe(['demo.a']);
    await harness.client.subscribe(['demo.b']);
    const requestId = heldSubscribe?.requestId;
    harness.gateway.connection(2).send({ type: 'reply', requestId, ok: true, result: {} });

    await vi.waitFor(() => expect(harness.gateway.connection(2).frames).toHaveLength(3));
    const frames = harness.gateway.connection(2).frames.map((f) => [f.action, f.topics]);
    expect(frames).toEqual([
      ['subscribe', ['demo.a']],
      ['subscribe', ['demo.b']],
      ['unsubscribe', ['demo.a']],
    ]);
    expect(harness.client.subscriptions).toEqual(['demo.b']);
  });
});
