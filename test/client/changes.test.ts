/** Change events through the client: live `change` frames, and the kinds a resume reports. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeEvent } from '#client/herald-client';
import { closeHarnesses, connected, type Frame, type GatewayConnection, setup } from './harness';

afterEach(closeHarnesses);

const C1 = '01JC1111111111111111111111';
const C2 = '01JC2222222222222222222222';
const C3 = '01JC3333333333333333333333';

function change(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    eventId: `evt-${id}`,
    type: 'events-changed',
    at: '2026-11-23T12:00:00.000Z',
    ...extra,
  };
}

async function withChanges() {
  const harness = await setup();
  const changes: ChangeEvent[] = [];
  harness.client.on('change', (event) => changes.push(event));
  return { ...harness, changes };
}

describe('HeraldClient change events', () => {
  it('emits each live change once, with its kind (collapse key, else type)', async () => {
    const harness = await withChanges();
    await connected(harness);
    const server = harness.gateway.connection(1);
    server.send({ type: 'change', change: change(C1, { collapseKey: 'doc.1', data: { v: 1 } }) });
    server.send({ type: 'change', change: change(C1, { collapseKey: 'doc.1', data: { v: 1 } }) });
    server.send({ type: 'change', change: change(C2) });
    server.send({ type: 'change', change: { id: 42 } });
    await vi.waitFor(() => expect(harness.changes).toHaveLength(2));
    expect(harness.changes).toEqual([
      { ...change(C1, { collapseKey: 'doc.1', data: { v: 1 } }), kind: 'doc.1', resumed: false },
      { ...change(C2), kind: 'events-changed', resumed: false },
    ]);
    // A change is no notification.
    expect(harness.notifications).toEqual([]);
  });

  it('after a reconnect resumes from the last change seen and emits the kinds it reports, marked resumed', async () => {
    const harness = await withChanges();
    let resume: [GatewayConnection, Frame] | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      resume = [connection, frame];
      return true;
    };
    await connected(harness);
    harness.gateway.connection(1).send({ type: 'change', change: change(C1) });
    await vi.waitFor(() => expect(harness.changes).toHaveLength(1));

    harness.gateway.connection(1).ws.terminate();
    await vi.waitFor(() => expect(harness.client.connectionState).toBe('reconnecting'));
    harness.clock.advance(250);
    await vi.waitFor(() => expect(resume).toBeDefined());
    const [server, frame] = resume as [GatewayConnection, Frame];
    // No notification seen: the change cursor alone.
    expect(frame).toMatchObject({ action: 'resume', changesSince: C1 });
    expect(frame).not.toHaveProperty('since');
    const reported = [
      { kind: 'events-changed', type: 'events-changed', id: C1, at: 'a' },
      { kind: 'doc.2', type: 'events-changed', id: C2, at: 'b' },
      { kind: 'streams-changed', type: 'streams-changed', id: C3, at: 'c' },
    ];
    server.send({
      type: 'reply',
      requestId: frame.requestId,
      ok: true,
      result: { replayed: 0, more: false, changes: reported },
    });
    await vi.waitFor(() => expect(harness.changes).toHaveLength(3));
    // C1 was seen live: not emitted again.
    expect(harness.changes.slice(1)).toEqual([
      { ...reported[1], resumed: true },
      { ...reported[2], resumed: true },
    ]);
  });

  it('sends both cursors when it has seen a notification and a change', async () => {
    const harness = await withChanges();
    let resume: Frame | undefined;
    harness.gateway.onFrame = (connection, frame) => {
      if (frame.action !== 'resume') return false;
      resume = frame;
      const result = { replayed: 0, more: false, changes: [] };
      connection.send({ type: 'reply', requestId: frame.requestId, ok: true, result });
      return true;
    };
    await connected(harness);
    const server = harness.gateway.connection(1);
    const notification = {
      id: C1,
      eventId: 'evt-n',
      type: 'demo.test',
      createdAt: '2026-11-23T12:00:00.000Z',
      read: false,
    };
    server.send({ type: 'notification', notification });
    server.send({ type: 'change', change: change(C2) });
    await vi.waitFor(() => expect(harness.changes).toHaveLength(1));
    expect(await harness.client.resume()).toEqual({ replayed: 0 });
    expect(resume).toMatchObject({ since: C1, changesSince: C2 });
  });
});
