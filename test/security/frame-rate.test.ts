/**
 * The per-connection frame rate (README "Security") on the launched local stack: a flood of
 * frames gets `rate_limited` replies, then the connection is closed; a neighbour's socket
 * keeps its own budget. The stack is given a tight budget so the flood is small.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

const RATE = { perSecond: 1, burst: 3, refusalsBeforeClose: 5 };
/** Far more than a second's refill on any machine, sent as one batch. */
const FLOOD = 60;

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e({ frameRate: RATE });
});

afterAll(async () => {
  await e2e?.stop();
});

describe('a client flooding frames', () => {
  it('gets rate_limited replies and is then closed, while a neighbour is served', async () => {
    const flooder = await e2e.connect('rate-flooder');
    const neighbour = await e2e.connect('rate-neighbour');
    const payload = Array.from({ length: FLOOD }, (_, i) =>
      JSON.stringify({ action: 'ping', requestId: `f${i}` }),
    );
    for (const frame of payload) flooder.socket.send(frame);

    await eventually(() => {
      if (flooder.socket.readyState !== WebSocket.CLOSED) throw new Error('still open');
    }, 60_000);
    const limited = flooder.frames.filter(
      (frame) => (frame.error as { code?: string } | undefined)?.code === 'rate_limited',
    );
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ type: 'reply', ok: false });

    expect(await neighbour.request('ping')).toMatchObject({ type: 'pong' });
  });

  it('answers an unreadable frame past the budget with rate_limited, not a crash', async () => {
    const client = await e2e.connect('rate-garbage');
    for (let i = 0; i < RATE.burst + 2; i++) client.socket.send('not json');
    await eventually(() => {
      const codes = client.frames.map(
        (frame) => (frame.error as { code?: string } | undefined)?.code,
      );
      if (!codes.includes('rate_limited')) throw new Error(`only ${codes.join(',')}`);
      expect(codes).toContain('bad_frame');
    });
  });
});
