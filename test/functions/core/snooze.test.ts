import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError } from '#core/errors';
import type { Notification } from '#core/model';
import { createSnoozeService, parseUntil, SNOOZE_LIMITS } from '#core/snooze';
import type { SnoozeInbox, SnoozeOutcome } from '#core/snooze-ports';
import { FakeClock } from '#test/support/fakes';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 24 * 3600 * 1000;
const ID = '01JD3Z8Y0000000000000000AB';

describe('parseUntil', () => {
  it('takes a future ISO time with its offset, as UTC', () => {
    expect(parseUntil({ until: '2026-11-23T14:30:00+02:00' }, NOW)).toBe(
      '2026-11-23T12:30:00.000Z',
    );
    expect(parseUntil({ until: '2026-11-24T09:00:00Z' }, NOW)).toBe('2026-11-24T09:00:00.000Z');
  });

  it.each([
    ['not an object', 'soon', 'body must be an object'],
    ['no until', {}, 'until must be an ISO 8601 time'],
    ['a number', { until: NOW + DAY }, 'until must be an ISO 8601 time'],
    ['no offset', { until: '2026-11-24T09:00:00' }, 'until must be an ISO 8601 time'],
    ['not a date', { until: '2026-13-45T09:00:00Z' }, 'until must be an ISO 8601 time'],
    ['the past', { until: '2026-11-23T11:59:00Z' }, 'until must be in the future'],
    ['now', { until: '2026-11-23T12:00:00Z' }, 'until must be in the future'],
    [
      'too far',
      { until: new Date(NOW + (SNOOZE_LIMITS.maxDays + 1) * DAY).toISOString() },
      'until must be at most 90 days away',
    ],
    ['another field', { until: '2026-11-24T09:00:00Z', when: 1 }, 'unknown field: when'],
  ])('refuses %s with a 400 naming the rule', (_case, body, message) => {
    expect(() => parseUntil(body, NOW)).toThrow(BadRequestError);
    expect(() => parseUntil(body, NOW)).toThrow(message);
  });
});

describe('createSnoozeService', () => {
  const alice = { tenant: 'acme', userId: 'alice' };
  const notification = { id: ID, eventId: 'e', type: 't', read: false } as Notification;

  function setUp(outcome: SnoozeOutcome, woken?: Notification) {
    const calls: string[] = [];
    const snoozes: SnoozeInbox = {
      async snooze(_t, _u, id, until) {
        calls.push(`snooze ${id} ${until}`);
        return outcome;
      },
      async wake(_t, _u, id, until) {
        calls.push(`wake ${id} ${until ?? 'now'}`);
        return woken;
      },
    };
    const service = createSnoozeService({
      snoozes,
      clock: new FakeClock(NOW),
      pusher: {
        async pushToUser(_t, userId, frame) {
          calls.push(`push ${userId} ${JSON.parse(frame).type}`);
          return { delivered: [], failed: [], pruned: 0, closed: 0, problems: [] };
        },
      },
      inbox: {
        async announceState(owner) {
          calls.push(`state ${owner.userId}`);
          return { unread: 2, unseen: 1 };
        },
        async get(_owner, id) {
          calls.push(`get ${id}`);
          if (outcome.kind === 'missing') throw new NotFoundError('notification not found');
          return notification;
        },
      },
    });
    return { service, calls };
  }

  it('snoozes, then announces the counts', async () => {
    const { service, calls } = setUp({ kind: 'snoozed' });
    const result = await service.snooze(alice, ID, { until: '2026-11-24T09:00:00Z' });
    expect(result).toEqual({ snoozedUntil: '2026-11-24T09:00:00.000Z', unread: 2, unseen: 1 });
    expect(calls).toEqual([`snooze ${ID} 2026-11-24T09:00:00.000Z`, 'state alice']);
  });

  it.each([
    [{ kind: 'missing' } as const, NotFoundError, 'notification not found'],
    [{ kind: 'archived' } as const, BadRequestError, 'unarchive it first'],
    [
      { kind: 'expires-first', expiresAt: NOW / 1000 + 3600 } as const,
      BadRequestError,
      'until must be before the notification expires (2026-11-23T13:00:00.000Z)',
    ],
  ])('refuses when the inbox finds it %j', async (outcome, type, message) => {
    const { service, calls } = setUp(outcome);
    const snooze = service.snooze(alice, ID, { until: '2026-11-24T09:00:00Z' });
    await expect(snooze).rejects.toBeInstanceOf(type);
    await expect(snooze).rejects.toThrow(message);
    expect(calls).not.toContain('state alice');
  });

  it('refuses a bad id before anything is written', async () => {
    const { service, calls } = setUp({ kind: 'snoozed' });
    await expect(service.snooze(alice, 'nope', { until: '2026-11-24T09:00:00Z' })).rejects.toThrow(
      'not a notification id',
    );
    expect(calls).toEqual([]);
  });

  it('unsnoozes: pushes the notification again, then the counts', async () => {
    const { service, calls } = setUp({ kind: 'snoozed' }, notification);
    expect(await service.unsnooze(alice, ID)).toEqual({ unread: 2, unseen: 1 });
    expect(calls).toEqual([`wake ${ID} now`, 'push alice notification', 'state alice']);
  });

  it('leaves one not snoozed as it is, and 404s one not there', async () => {
    const present = setUp({ kind: 'snoozed' });
    expect(await present.service.unsnooze(alice, ID)).toEqual({ unread: 2, unseen: 1 });
    expect(present.calls).toEqual([`wake ${ID} now`, `get ${ID}`, 'state alice']);
    const gone = setUp({ kind: 'missing' });
    await expect(gone.service.unsnooze(alice, ID)).rejects.toBeInstanceOf(NotFoundError);
  });
});
