import { describe, expect, it } from 'vitest';
import { atSteadyRate, Receiver } from '#bench/e2e-clients';
import { connectionsOf, expectedDeliveries } from '#bench/end-to-end';

const frame = (eventId: string, id: string, sentAt: unknown) =>
  JSON.stringify({ type: 'notification', notification: { id, eventId, data: { sentAt } } });

describe('Receiver', () => {
  it('records publish-to-receive latency for the watched run only', () => {
    const receiver = new Receiver();
    receiver.watch('run-1-');
    receiver.receive(0, frame('run-1-0', 'n0', 1_000), 1_040);
    receiver.receive(1, frame('run-1-0', 'n0', 1_000), 1_055);
    receiver.receive(0, frame('warm-0', 'w0', 1_000), 1_010);
    receiver.receive(0, JSON.stringify({ type: 'state', unread: 3 }), 1_010);
    receiver.receive(0, frame('run-1-1', 'n1', 'not a time'), 1_010);
    expect(receiver.result(2)).toEqual({
      expected: 2,
      delivered: 2,
      duplicates: 0,
      latency: { count: 2, p50: 40, p95: 55, p99: 55, max: 55 },
    });
  });

  it('counts a notification a client got twice as a duplicate, not a delivery', () => {
    const receiver = new Receiver();
    receiver.watch('r-');
    receiver.receive(0, frame('r-0', 'n0', 0), 5);
    receiver.receive(0, frame('r-0', 'n0', 0), 9);
    expect(receiver.result(1)).toMatchObject({ delivered: 1, duplicates: 1 });
  });

  it('starts afresh when it watches a new run', () => {
    const receiver = new Receiver();
    receiver.watch('a-');
    receiver.receive(0, frame('a-0', 'n0', 0), 5);
    receiver.watch('b-');
    expect(receiver.result(0)).toMatchObject({ delivered: 0, latency: { count: 0 } });
  });
});

describe('the end-to-end arithmetic', () => {
  it('spreads clients over users round robin', () => {
    expect([0, 1, 2].map((user) => connectionsOf(user, 7, 3))).toEqual([3, 2, 2]);
    expect(expectedDeliveries(4, 7, 3)).toBe(3 + 2 + 2 + 3);
    expect(expectedDeliveries(10, 1000, 200)).toBe(50);
  });

  it('sends everything, on a schedule', async () => {
    const sent: number[] = [];
    await atSteadyRate(5, 1_000, async (i) => {
      sent.push(i);
    });
    expect(sent).toEqual([0, 1, 2, 3, 4]);
  });
});
