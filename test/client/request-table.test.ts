/** Request/reply over the socket, through the client: replies by requestId, server errors, timeouts and losses. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeraldRequestError } from '#client/herald-client';
import type { Socket } from '#client/reconnecting-socket';
import { RequestTable } from '#client/request-table';
import {
  closeHarnesses,
  connected,
  type Frame,
  type GatewayConnection,
  ManualClock,
  setup,
} from './harness';

afterEach(closeHarnesses);

describe('HeraldClient requests', () => {
  it('matches replies to requests by requestId, answered out of order', async () => {
    const harness = await setup();
    const held: [GatewayConnection, Frame][] = [];
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'echo') return false;
      held.push([connection, frame]);
      if (held.length === 2) {
        for (const [c, f] of [...held].reverse()) {
          c.send({ type: 'reply', requestId: f.requestId, ok: true, result: { n: f.n } });
        }
      }
      return true;
    };
    await connected(harness);

    const [first, second] = await Promise.all([
      harness.client.request('echo', { n: 1 }),
      harness.client.request('echo', { n: 2 }),
    ]);
    expect(first).toEqual({ n: 1 });
    expect(second).toEqual({ n: 2 });
    const ids = held.map(([, frame]) => frame.requestId);
    expect(new Set(ids).size).toBe(2);
  });

  it('rejects with the server error code on ok:false and keeps refused topics out', async () => {
    const harness = await setup();
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'subscribe' || !String(frame.topics).startsWith('secret')) return false;
      const error = { code: 'forbidden', message: 'your token does not allow topic: secret.x' };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: false, error });
      return true;
    };
    await connected(harness);

    await harness.client.subscribe(['demo.a']);
    const refused = harness.client.subscribe(['secret.x']);
    await expect(refused).rejects.toBeInstanceOf(HeraldRequestError);
    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    expect(harness.client.subscriptions).toEqual(['demo.a']);
  });

  it('rejects a request on timeout, on a lost connection, and after close()', async () => {
    const harness = await setup();
    harness.gateway.onFrame = (_connection, frame) => frame.action === 'slow';
    await expect(harness.client.request('slow')).rejects.toMatchObject({ code: 'not_connected' });
    await connected(harness);

    const timedOut = harness.client.request('slow');
    await vi.waitFor(() => expect(harness.gateway.connection(1).frames).toHaveLength(1));
    harness.clock.advance(5_000);
    await expect(timedOut).rejects.toMatchObject({ code: 'timeout' });

    const lost = harness.client.request('slow');
    await vi.waitFor(() => expect(harness.gateway.connection(1).frames).toHaveLength(2));
    harness.gateway.connection(1).ws.terminate();
    await expect(lost).rejects.toMatchObject({ code: 'connection_closed' });

    // While reconnecting a request waits for the socket; close() ends the wait.
    const waiting = harness.client.request('slow');
    harness.client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'client_closed' });
  });
});

describe('RequestTable', () => {
  /** A table over stand-in sockets: what each was sent, and which were closing. */
  function table(closing: Socket[] = []) {
    const clock = new ManualClock();
    const sent: [Socket, Record<string, unknown>][] = [];
    const settled: Socket[] = [];
    const requests = new RequestTable({
      timers: clock,
      timeoutMs: 1_000,
      send: (socket, data) => {
        if (closing.includes(socket)) return false;
        sent.push([socket, JSON.parse(data) as Record<string, unknown>]);
        return true;
      },
      settled: (socket) => settled.push(socket),
    });
    return { clock, sent, settled, requests };
  }
  const socketA = { role: 'active' } as Socket;
  const socketB = { role: 'active' } as Socket;

  it('holds requests without a socket until sendWaiting, then owes their replies there', async () => {
    const { sent, settled, requests } = table();
    const waiting = requests.request('echo', { n: 1 });
    expect(sent).toEqual([]);
    expect(requests.owes(socketA)).toBe(false);

    requests.sendWaiting(socketA);
    expect(sent).toEqual([[socketA, { n: 1, action: 'echo', requestId: 'r1' }]]);
    expect(requests.owes(socketA)).toBe(true);
    requests.receiveReply({ type: 'reply', requestId: 'r1', ok: true, result: { n: 1 } });
    await expect(waiting).resolves.toEqual({ n: 1 });
    expect(requests.owes(socketA)).toBe(false);
    expect(settled).toEqual([socketA]);
  });

  it('fails only the requests of a lost socket, and ignores outcomes after the first', async () => {
    const { requests } = table();
    const onA = requests.request('slow', {}, socketA);
    const onB = requests.request('slow', {}, socketB);
    requests.failOn(socketA);
    await expect(onA).rejects.toMatchObject({ code: 'connection_closed' });
    requests.receiveReply({ type: 'reply', requestId: 'r1', ok: true, result: {} });
    requests.receiveReply({ type: 'reply', requestId: 'r2', ok: false });
    await expect(onB).rejects.toEqual(new HeraldRequestError('unknown', 'request failed'));
  });

  it('fails a request at once when its socket cannot take the frame', async () => {
    const { requests } = table([socketA]);
    const request = requests.request('echo', {}, socketA);
    await expect(request).rejects.toMatchObject({
      code: 'connection_closed',
      message: 'the connection is closing',
    });
  });

  it('times out, and failAll ends whatever is left with the given error', async () => {
    const { clock, requests } = table();
    const early = requests.request('slow', {}, socketA);
    clock.advance(500);
    const late = requests.request('slow', {}, socketA);
    clock.advance(500);
    await expect(early).rejects.toMatchObject({ code: 'timeout' });
    requests.failAll(new HeraldRequestError('client_closed', 'the client was closed'));
    await expect(late).rejects.toMatchObject({ code: 'client_closed' });
    expect(clock.pending).toBe(0);
  });
});
