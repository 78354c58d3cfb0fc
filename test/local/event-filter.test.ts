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

  it('matches a prefix rule on strings only', () => {
    const pattern = { source: [{ prefix: 'herald.' }] };
    expect(matchesPattern(pattern, { source: 'herald.billing' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'com.herald.billing' })).toBe(false);
    expect(matchesPattern(pattern, { source: 42 })).toBe(false);
    expect(matchesPattern(pattern, {})).toBe(false);
  });

  it('matches a field holding an array when any element matches, as AWS does', () => {
    expect(matchesPattern({ resources: ['b'] }, { resources: ['a', 'b'] })).toBe(true);
    expect(matchesPattern({ resources: ['c'] }, { resources: ['a', 'b'] })).toBe(false);
  });
});
