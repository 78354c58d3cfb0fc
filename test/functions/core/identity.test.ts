import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '#core/errors';
import {
  DEFAULT_TENANT,
  identityFromAuthorizerContext,
  identityFromClaims,
  MAX_TOPIC_PATTERNS,
  toAuthorizerContext,
} from '#core/identity';
import type { Identity } from '#core/model';

function refusal(run: () => unknown): UnauthorizedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedError);
    return error as UnauthorizedError;
  }
  throw new Error('expected an UnauthorizedError');
}

describe('identityFromClaims', () => {
  it('reads user, tenant, topics and email', () => {
    expect(
      identityFromClaims({
        sub: 'alice',
        tenant: 'acme',
        topics: ['project.*', 'org.acme.>'],
        email: 'alice@example.com',
      }),
    ).toEqual({
      userId: 'alice',
      tenant: 'acme',
      topicPatterns: ['project.*', 'org.acme.>'],
      email: 'alice@example.com',
    });
  });

  it('defaults the tenant and grants no topics when the claims are absent', () => {
    const identity = identityFromClaims({ sub: 'alice' });
    expect(identity).toEqual({ userId: 'alice', tenant: DEFAULT_TENANT, topicPatterns: [] });
    expect('email' in identity).toBe(false);
  });

  it('falls back to user_id when there is no sub', () => {
    expect(identityFromClaims({ user_id: 'bob' }).userId).toBe('bob');
  });

  it('prefers sub over user_id', () => {
    expect(identityFromClaims({ sub: 'alice', user_id: 'bob' }).userId).toBe('alice');
  });

  it('accepts topics as a space-separated string, ignoring extra spaces, deduplicated', () => {
    expect(identityFromClaims({ sub: 'a', topics: ' project.*  org.> project.* ' })).toMatchObject({
      topicPatterns: ['project.*', 'org.>'],
    });
    expect(identityFromClaims({ sub: 'a', topics: '' }).topicPatterns).toEqual([]);
  });

  it.each([
    ['no user claim at all', {}, 'token names no user'],
    ['empty sub', { sub: '' }, 'invalid user claim'],
    ['numeric sub', { sub: 42 }, 'invalid user claim'],
    ['bad sub does not fall back to user_id', { sub: '', user_id: 'bob' }, 'invalid user claim'],
    ['user with a newline', { sub: 'alice\nadmin' }, 'invalid user claim'],
    ['user with a NUL', { user_id: 'a\u0000b' }, 'invalid user claim'],
    ['user with a C1 control', { sub: 'a\u0085b' }, 'invalid user claim'],
    ['user too long', { sub: 'x'.repeat(257) }, 'invalid user claim'],
    ['tenant with a space', { sub: 'a', tenant: 'ac me' }, 'invalid tenant claim'],
    ['tenant with a key separator', { sub: 'a', tenant: 'acme#x' }, 'invalid tenant claim'],
    ['empty tenant', { sub: 'a', tenant: '' }, 'invalid tenant claim'],
    ['tenant too long', { sub: 'a', tenant: 't'.repeat(65) }, 'invalid tenant claim'],
    ['numeric tenant', { sub: 'a', tenant: 7 }, 'invalid tenant claim'],
    ['null tenant', { sub: 'a', tenant: null }, 'invalid tenant claim'],
    ['topics an object', { sub: 'a', topics: { a: 1 } }, 'invalid topics claim'],
    ['topics with a number', { sub: 'a', topics: ['a', 1] }, 'invalid topics claim'],
    ['topic with > not last', { sub: 'a', topics: ['org.>.x'] }, 'invalid topics claim'],
    ['topic with an empty token', { sub: 'a', topics: 'a..b' }, 'invalid topics claim'],
    ['topic with a slash', { sub: 'a', topics: ['a/b'] }, 'invalid topics claim'],
    [
      'too many topics',
      { sub: 'a', topics: Array.from({ length: MAX_TOPIC_PATTERNS + 1 }, (_, i) => `t${i}`) },
      'invalid topics claim',
    ],
  ])('refuses %s', (_, claims, message) => {
    expect(refusal(() => identityFromClaims(claims)).message).toBe(message);
  });

  it('accepts exactly the maximum number of topic patterns', () => {
    const topics = Array.from({ length: MAX_TOPIC_PATTERNS }, (_, i) => `t${i}`);
    expect(identityFromClaims({ sub: 'a', topics }).topicPatterns).toHaveLength(MAX_TOPIC_PATTERNS);
  });

  it('never echoes a claim value in its message', () => {
    const error = refusal(() => identityFromClaims({ sub: 'a', tenant: 'evil<script>' }));
    expect(error.message).not.toContain('evil');
  });

  it.each([
    ['not an address', 'alice'],
    ['two @', 'a@b@example.com'],
    ['no dot in the domain', 'alice@localhost'],
    ['a space', 'alice @example.com'],
    ['a number', 42],
    ['too long', `${'a'.repeat(250)}@example.com`],
  ])('drops an email that is %s, keeping the identity', (_, email) => {
    const identity = identityFromClaims({ sub: 'alice', email });
    expect(identity.userId).toBe('alice');
    expect(identity.email).toBeUndefined();
  });

  it('drops an email the issuer marks unverified, keeps one marked verified', () => {
    expect(
      identityFromClaims({ sub: 'a', email: 'a@example.com', email_verified: false }).email,
    ).toBeUndefined();
    expect(
      identityFromClaims({ sub: 'a', email: 'a@example.com', email_verified: true }).email,
    ).toBe('a@example.com');
  });
  it('reads "herald:role": "service" as a service credential, and refuses any other role', () => {
    expect(identityFromClaims({ sub: 'billing', 'herald:role': 'service' }).role).toBe('service');
    expect(identityFromClaims({ sub: 'alice', 'herald:role': 'user' }).role).toBeUndefined();
    expect(identityFromClaims({ sub: 'alice' }).role).toBeUndefined();
    expect(() => identityFromClaims({ sub: 'x', 'herald:role': 'admin' })).toThrow(
      UnauthorizedError,
    );
  });
});

describe('authorizer context', () => {
  const alice: Identity = {
    tenant: 'acme',
    userId: 'alice',
    topicPatterns: ['project.*', 'org.acme.>'],
    email: 'alice@example.com',
  };

  it('is flat: every value a string', () => {
    const context = toAuthorizerContext(alice);
    expect(context).toEqual({
      tenant: 'acme',
      userId: 'alice',
      topics: '["project.*","org.acme.>"]',
      email: 'alice@example.com',
    });
    for (const value of Object.values(context)) expect(typeof value).toBe('string');
  });

  it('leaves email out when there is none', () => {
    const { email: _, ...withoutEmail } = alice;
    expect('email' in toAuthorizerContext(withoutEmail)).toBe(false);
  });

  it.each([
    ['with email', alice],
    ['without email', { tenant: 'default', userId: 'bob', topicPatterns: [] }],
    ['with an odd but valid user id', { ...alice, userId: 'user|123@idp' }],
  ])('round-trips an identity %s', (_, identity: Identity) => {
    expect(identityFromAuthorizerContext(toAuthorizerContext(identity))).toEqual(identity);
  });

  it('ignores what API Gateway adds (principalId, integrationLatency)', () => {
    const context = { ...toAuthorizerContext(alice), principalId: 'alice', integrationLatency: 12 };
    expect(identityFromAuthorizerContext(context)).toEqual(alice);
  });

  it('treats an empty email as none (as a stringifying gateway may pass it)', () => {
    const context = { ...toAuthorizerContext(alice), email: '' };
    expect(identityFromAuthorizerContext(context).email).toBeUndefined();
  });

  const good = toAuthorizerContext(alice);
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'alice'],
    ['empty', {}],
    ['no userId', { ...good, userId: undefined }],
    ['no tenant', { ...good, tenant: undefined }],
    ['bad tenant', { ...good, tenant: 'a b' }],
    ['no topics', { ...good, topics: undefined }],
    ['topics not JSON', { ...good, topics: 'project.*' }],
    ['topics JSON but not an array', { ...good, topics: '{"a":1}' }],
    ['topics with a bad pattern', { ...good, topics: '["org.>.x"]' }],
    ['topics as an array rather than a string', { ...good, topics: ['project.*'] }],
    ['bad email', { ...good, email: 'nope' }],
  ])('refuses a context that is %s', (_, context) => {
    refusal(() => identityFromAuthorizerContext(context));
  });
});
