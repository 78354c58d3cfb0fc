import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNotificationId, notificationId, notificationTime } from '#core/notification-id';

const CROCKFORD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** ULID time is 48 bits of milliseconds. */
const MAX_TIME = 2 ** 48 - 1;
const time = fc.integer({ min: 0, max: MAX_TIME });
const tenant = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const eventId = fc.string({ minLength: 1, maxLength: 128 });

describe('notificationId', () => {
  it('is 26 Crockford base32 characters', () => {
    fc.assert(
      fc.property(time, tenant, eventId, (t, tn, e) => {
        expect(notificationId(t, tn, e)).toMatch(CROCKFORD_ID);
      }),
    );
  });

  it('sorts by time: t1 < t2 gives id1 < id2 whatever the tenant and event', () => {
    fc.assert(
      fc.property(time, time, tenant, eventId, tenant, eventId, (a, b, tn1, e1, tn2, e2) => {
        fc.pre(a !== b);
        const [t1, t2] = a < b ? [a, b] : [b, a];
        expect(notificationId(t1, tn1, e1) < notificationId(t2, tn2, e2)).toBe(true);
      }),
    );
  });

  it('is the same for the same input and differs by tenant and event id', () => {
    const t = Date.parse('2026-11-23T12:00:00Z');
    expect(notificationId(t, 'acme', 'evt-1')).toBe(notificationId(t, 'acme', 'evt-1'));
    expect(notificationId(t, 'acme', 'evt-1')).not.toBe(notificationId(t, 'other', 'evt-1'));
    expect(notificationId(t, 'acme', 'evt-1')).not.toBe(notificationId(t, 'acme', 'evt-2'));
  });

  it('does not let tenant and event id run into each other', () => {
    const t = 1_000;
    expect(notificationId(t, 'ab', 'c')).not.toBe(notificationId(t, 'a', 'bc'));
  });

  it('starts like a ULID of the same millisecond', () => {
    // The ulid README's example: ulid(1469918176385) starts with 01ARYZ6S41.
    expect(notificationId(1469918176385, 'acme', 'evt').slice(0, 10)).toBe('01ARYZ6S41');
  });
});

describe('notificationTime', () => {
  it('round-trips the publish time', () => {
    fc.assert(
      fc.property(time, tenant, eventId, (t, tn, e) => {
        expect(notificationTime(notificationId(t, tn, e))).toBe(t);
      }),
    );
  });

  it('is undefined for something that is not an id', () => {
    expect(notificationTime('not-an-id')).toBeUndefined();
  });
});

describe('isNotificationId', () => {
  it('accepts what notificationId makes', () => {
    expect(isNotificationId(notificationId(Date.now(), 'acme', 'evt-1'))).toBe(true);
  });

  it.each([
    ['too short', '01ARYZ6S41TSV4RRFFQ69G5FA'],
    ['too long', '01ARYZ6S41TSV4RRFFQ69G5FAVV'],
    ['lower case', '01aryz6s41tsv4rrffq69g5fav'],
    ['an I (not Crockford)', '01ARYZ6S41TSV4RRFFQ69G5FAI'],
    ['an L (not Crockford)', '01ARYZ6S41TSV4RRFFQ69G5FAL'],
    ['an O (not Crockford)', '01ARYZ6S41TSV4RRFFQ69G5FAO'],
    ['a U (not Crockford)', '01ARYZ6S41TSV4RRFFQ69G5FAU'],
    ['empty', ''],
  ])('refuses an id that is %s', (_what, id) => {
    expect(isNotificationId(id)).toBe(false);
  });
});
