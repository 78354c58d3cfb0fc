/** The reconnecting socket, through the client: backoff, keepalive pings, and rotation before the 2-hour cut. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeHarnesses, connected, type Frame, NEWER, notification, setup } from './harness';

afterEach(closeHarnesses);

describe('HeraldClient connection', () => {
  it('reconnects with growing, jittered backoff, a fresh token and its topics', async () => {
    const jitter = [0.5, 0.25, 0.75, 0.5];
    const harness = await setup({ random: () => jitter.shift() ?? 0 });
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.gateway.refuse = 3;
    harness.gateway.connection(1).ws.terminate();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await vi.waitFor(() => {
        expect(harness.events.filter((e) => e.state === 'reconnecting')).toHaveLength(attempt);
      });
      const event = harness.events.at(-1);
      if (event?.state !== 'reconnecting')
        throw new Error(`expected reconnecting, got ${event?.state}`);
      expect(event.attempt).toBe(attempt);
      expect(event.cause).toBe(attempt === 1 ? 'closed' : 'handshake');
      expect(event.code).toBe(1006);
      delays.push(event.delayMs);
      harness.clock.advance(event.delayMs);
    }
    // Full jitter: random x min(max, 500 * 2^(attempt-1)).
    expect(delays).toEqual([0.5 * 500, 0.25 * 1_000, 0.75 * 2_000, 0.5 * 4_000]);

    await vi.waitFor(() => {
      expect(harness.client.connectionState).toBe('open');
      expect(harness.gateway.connection(2).frames.map((f) => f.action)).toEqual(['subscribe']);
    });
    expect(harness.tokens).toEqual(['tok-1', 'tok-2', 'tok-3', 'tok-4', 'tok-5']);
    expect(harness.gateway.handshakes).toEqual(harness.tokens);
    expect(harness.gateway.connection(2).token).toBe('tok-5');
    expect(harness.gateway.connection(2).frames[0]?.topics).toEqual(['demo.a']);

    harness.client.close();
    expect(harness.events.at(-1)).toEqual({ state: 'closed' });
    // No timer left means nothing can reconnect.
    expect(harness.clock.pending).toBe(0);
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 2 1000'));
    harness.clock.advance(3_600_000);
    expect(harness.gateway.handshakes).toHaveLength(5);
  });

  it('keeps backing off near the maximum while the handshake keeps failing', async () => {
    const harness = await setup({
      random: () => 0,
      backoff: { initialMs: 500, maxMs: 30_000, factor: 2, failuresBeforeMax: 3 },
    });
    harness.gateway.refuse = Number.POSITIVE_INFINITY;
    harness.client.connect();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await vi.waitFor(() => {
        expect(harness.events.filter((e) => e.state === 'reconnecting')).toHaveLength(attempt);
      });
      const event = harness.events.at(-1);
      if (event?.state !== 'reconnecting')
        throw new Error(`expected reconnecting, got ${event?.state}`);
      expect(event.cause).toBe('handshake');
      delays.push(event.delayMs);
      harness.clock.advance(event.delayMs);
    }
    // Zero jitter would retry at once forever; after 3 refusals the floor is half the max.
    expect(delays).toEqual([0, 0, 15_000, 15_000, 15_000]);
    expect(harness.gateway.connections).toHaveLength(0);
  });

  it('pings at the interval and reconnects when pings go unanswered', async () => {
    const harness = await setup({ pingIntervalMs: 60_000, requestTimeoutMs: 5_000 });
    let pongs = 0;
    harness.client.on('pong', () => {
      pongs += 1;
    });
    await connected(harness);
    const pings = () => harness.gateway.connection(1).frames.filter((f) => f.action === 'ping');

    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pongs).toBe(1));
    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pongs).toBe(2));
    expect(pings()).toEqual([{ action: 'ping' }, { action: 'ping' }]);

    harness.gateway.answerPings = false;
    harness.clock.advance(60_000);
    await vi.waitFor(() => expect(pings()).toHaveLength(3));
    harness.clock.advance(5_000);
    expect(harness.events.at(-1)).toMatchObject({ state: 'reconnecting', cause: 'ping-timeout' });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
  });

  it('opens the next socket before the maximum duration and closes the old one after', async () => {
    const harness = await setup({ maxConnectionMs: 100_000 });
    let heldSubscribe: Frame | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action === 'whoami') {
        const result = { index: connection.index };
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
        return true;
      }
      if (frame.action === 'subscribe' && connection.index === 2) {
        heldSubscribe = frame;
        return true;
      }
      return false;
    };
    await connected(harness);
    await harness.client.subscribe(['demo.a']);

    harness.clock.advance(100_000);
    await vi.waitFor(() => expect(heldSubscribe?.topics).toEqual(['demo.a']));
    // Until the new socket is subscribed the old one still delivers; both carry this one.
    const overlap = { type: 'notification', notification: notification(NEWER) };
    harness.gateway.connection(1).send(overlap);
    await vi.waitFor(() => expect(harness.notifications).toHaveLength(1));
    harness.gateway.connection(2).send(overlap);

    const requestId = heldSubscribe?.requestId;
    harness.gateway.connection(2).send({ type: 'reply', requestId, ok: true, result: {} });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
    expect(await harness.client.request('whoami')).toEqual({ index: 2 });
    expect(harness.gateway.log.filter((line) => !line.startsWith('whoami'))).toEqual([
      'open 1',
      'subscribe 1',
      'open 2',
      'subscribe 2',
      'close 1 1000',
    ]);
    expect(harness.notifications.map((n) => n.id)).toEqual([NEWER]);
    // The swap is invisible to listeners; only the token was fetched anew.
    expect(harness.events).toEqual([{ state: 'connecting', attempt: 0 }, { state: 'open' }]);
    expect(harness.tokens).toEqual(['tok-1', 'tok-2']);
  });

  it('closes a replaced socket only once the replies it owes have arrived', async () => {
    const harness = await setup({ maxConnectionMs: 100_000, requestTimeoutMs: 1_000_000 });
    const held: Frame[] = [];
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action === 'slow') {
        held.push(frame);
        return true;
      }
      if (frame.action === 'whoami') {
        const result = { index: connection.index };
        connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
        return true;
      }
      return false;
    };
    await connected(harness);
    const slow = harness.client.request('slow');
    await vi.waitFor(() => expect(held).toHaveLength(1));

    harness.clock.advance(100_000);
    // Requests move to the new socket once it is open (and subscribed).
    await vi.waitFor(async () => {
      expect(await harness.client.request('whoami')).toEqual({ index: 2 });
    });
    expect(harness.gateway.log.some((line) => line.startsWith('close 1'))).toBe(false);

    const requestId = held[0]?.requestId;
    harness.gateway.connection(1).send({ type: 'reply', requestId, ok: true, result: { n: 1 } });
    await expect(slow).resolves.toEqual({ n: 1 });
    await vi.waitFor(() => expect(harness.gateway.log).toContain('close 1 1000'));
  });
});
