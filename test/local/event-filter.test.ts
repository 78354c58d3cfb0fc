import { describe, expect, it } from 'vitest';
import { TTL_REMOVAL_FILTER } from '#config/ttl-removal';
import { matchesPattern } from '#local/event-filter';

describe('matchesPattern', () => {
  const ttlRemoval = {
    eventName: 'REMOVE',
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: { Keys: {} },
  };

  it('lets through a TTL removal, whatever fields the pattern does not name', () => {
    expect(matchesPattern(TTL_REMOVAL_FILTER, ttlRemoval)).toBe(true);
  });

  it.each([
    ['a delete of Herald’s own (no identity)', { eventName: 'REMOVE' }],
    ['an insert', { ...ttlRemoval, eventName: 'INSERT' }],
    ['another principal', { ...ttlRemoval, userIdentity: { type: 'Service', principalId: 'x' } }],
    ['a user identity', { ...ttlRemoval, userIdentity: { type: 'User', principalId: 'x' } }],
    ['not an object', 'REMOVE'],
  ])('holds back %s', (_name, record) => {
    expect(matchesPattern(TTL_REMOVAL_FILTER, record)).toBe(false);
  });

  it('allows any of a leaf’s values', () => {
    expect(matchesPattern({ eventName: ['INSERT', 'MODIFY'] }, { eventName: 'MODIFY' })).toBe(true);
  });
});
