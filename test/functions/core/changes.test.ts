import { describe, expect, it } from 'vitest';
import { changesSince, type RecordedChange, recordOf } from '#core/changes';
import { parseEnvelope } from '#core/envelope';
import { notificationId } from '#core/notification-id';

const T = Date.parse('2026-11-23T12:00:00Z');
const MARGIN = 60_000;

function recorded(kind: string, publishedAt: number, recordedAt = publishedAt): RecordedChange {
  return {
    kind,
    type: 'events-changed',
    id: notificationId(publishedAt, 'acme', `${kind}-${publishedAt}`),
    at: new Date(publishedAt).toISOString(),
    recordedAt,
  };
}

describe('changesSince', () => {
  const cursor = notificationId(T, 'acme', 'cursor');

  it('reports the kinds whose last change is after the cursor, oldest first, without recordedAt', () => {
    const later = recorded('doc.2', T + 2000);
    const soon = recorded('doc.1', T + 1000);
    const old = recorded('doc.0', T - 10 * MARGIN);
    expect(changesSince([later, old, soon], cursor, MARGIN)).toEqual([
      { kind: 'doc.1', type: 'events-changed', id: soon.id, at: soon.at },
      { kind: 'doc.2', type: 'events-changed', id: later.id, at: later.at },
    ]);
  });

  it('reports a change published before the cursor but recorded late, within the margin', () => {
    const late = recorded('doc.3', T - 5000, T + 200);
    const inMargin = recorded('doc.4', T - 5000, T - MARGIN + 1);
    const settled = recorded('doc.5', T - 5000, T - MARGIN - 1);
    const kinds = changesSince([late, inMargin, settled], cursor, MARGIN).map((c) => c.kind);
    expect(kinds.sort()).toEqual(['doc.3', 'doc.4']);
  });

  it('reports a kind once, with its newest change, when records of two recipients name it', () => {
    const fromUser = recorded('doc.1', T + 1000);
    const fromTopic = recorded('doc.1', T + 3000);
    expect(changesSince([fromTopic, fromUser], cursor, MARGIN)).toEqual([
      expect.objectContaining({ kind: 'doc.1', id: fromTopic.id }),
    ]);
  });

  it('records a change under its collapse key, else its type', () => {
    const envelope = parseEnvelope({
      id: 'evt-1',
      type: 'events-changed',
      to: { users: ['alice'] },
      channels: ['live'],
      collapseKey: 'doc.9',
    });
    expect(recordOf(envelope, T, T + 5)).toMatchObject({
      kind: 'doc.9',
      type: 'events-changed',
      id: notificationId(T, 'default', 'evt-1'),
      recordedAt: T + 5,
    });
    const { collapseKey: _none, ...plain } = envelope;
    expect(recordOf(plain, T, T).kind).toBe('events-changed');
  });
});
