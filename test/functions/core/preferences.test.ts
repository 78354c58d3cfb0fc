import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#core/errors';
import type { Preferences } from '#core/model';
import {
  createPreferencesService,
  PREFERENCE_LIMITS,
  parsePreferences,
  resolveChannels,
  SYSTEM_DEFAULTS,
} from '#core/preferences';
import { FakePreferenceStore } from '#test/support/fakes';

describe('resolveChannels', () => {
  const tenant: Preferences = {
    channels: { email: 'offline' },
    types: { 'invoice.ready': { email: 'always' }, 'digest.weekly': { inapp: false } },
  };
  const user: Preferences = {
    channels: { inapp: false },
    types: { 'invoice.ready': { email: 'never' }, 'chat.message': { inapp: true } },
  };

  // Most specific first: user type > user channels > tenant type > tenant channels > system.
  it.each([
    ['nothing set', 'x', undefined, undefined, SYSTEM_DEFAULTS],
    ['tenant channels', 'x', undefined, tenant, { inapp: true, email: 'offline' }],
    [
      'tenant type over tenant channels',
      'invoice.ready',
      undefined,
      tenant,
      { inapp: true, email: 'always' },
    ],
    [
      'user channels over tenant type',
      'digest.weekly',
      { channels: { inapp: true } },
      tenant,
      { inapp: true, email: 'offline' },
    ],
    ['user channels over system', 'x', user, undefined, { inapp: false, email: 'always' }],
    ['user type over everything', 'invoice.ready', user, tenant, { inapp: false, email: 'never' }],
    [
      'user type only for its own field',
      'chat.message',
      user,
      tenant,
      { inapp: true, email: 'offline' },
    ],
    ['another type falls through', 'other.type', user, tenant, { inapp: false, email: 'offline' }],
  ] as const)('%s', (_case, type, userPrefs, tenantPrefs, expected) => {
    expect(resolveChannels(type, userPrefs, tenantPrefs)).toEqual(expected);
  });

  it('finds no settings for types named like Object.prototype members', () => {
    const prefs: Preferences = { types: {} };
    for (const type of ['constructor', '__proto__', 'tostring', 'hasownproperty']) {
      expect(resolveChannels(type, prefs, prefs)).toEqual(SYSTEM_DEFAULTS);
    }
  });

  it('does not let a caller change the system defaults', () => {
    const resolved = resolveChannels('x', undefined, undefined);
    resolved.email = 'never';
    expect(SYSTEM_DEFAULTS).toEqual({ inapp: true, email: 'always' });
    expect(Object.isFrozen(SYSTEM_DEFAULTS)).toBe(true);
  });
});

describe('parsePreferences', () => {
  it('accepts the full shape and keeps every field', () => {
    const input = {
      channels: { inapp: true, email: 'offline' },
      types: { 'comment.created': { email: 'never' }, 'a_b-c.9': { inapp: false } },
    };
    const parsed = parsePreferences(input);
    expect(parsed).toEqual(input);
  });

  it('accepts the empty object and empty parts', () => {
    expect(parsePreferences({})).toEqual({});
    expect(parsePreferences({ channels: {}, types: {} })).toEqual({ channels: {}, types: {} });
  });

  it('keeps a type named __proto__ as an ordinary key, and resolves it', () => {
    const parsed = parsePreferences(JSON.parse('{"types":{"__proto__":{"email":"never"}}}'));
    const types = parsed.types ?? {};
    expect(Object.hasOwn(types, '__proto__')).toBe(true);
    expect(Object.keys(types)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(types, '__proto__')?.value).toEqual({ email: 'never' });
    expect(Object.getPrototypeOf(types)).toBeNull();
    expect(resolveChannels('__proto__', parsed, undefined).email).toBe('never');
    expect(resolveChannels('other', parsed, undefined).email).toBe('always');
    expect(JSON.stringify(parsed)).toBe('{"types":{"__proto__":{"email":"never"}}}');
    // Nothing leaked onto the shared prototype.
    expect(({} as Record<string, unknown>).email).toBeUndefined();
  });

  it.each([
    ['not an object', 'on', /must be an object/],
    ['null', null, /must be an object/],
    ['an array', [], /must be an object/],
    ['an unknown top-level key', { channel: {} }, /Unrecognized key: "channel"/],
    ['a top-level __proto__', JSON.parse('{"__proto__":{}}'), /__proto__/],
    ['an unknown channel', { channels: { sms: 'always' } }, /channels: .*"sms"/],
    [
      'a bad email mode',
      { channels: { email: 'sometimes' } },
      /channels\.email: must be "always", "never" or "offline"/,
    ],
    [
      'a non-boolean inapp',
      { channels: { inapp: 'yes' } },
      /channels\.inapp: must be true or false/,
    ],
    ['types as an array', { types: [] }, /types: must be an object keyed by type/],
    ['an upper-case type', { types: { Comment: {} } }, /types\.Comment: must match/],
    ['an empty type', { types: { '': {} } }, /types\[""\]: must match/],
    [
      'a 65-character type',
      { types: { ['a'.repeat(65)]: {} } },
      /must match \[a-z0-9._-\]\{1,64\}/,
    ],
    [
      'a bad mode for a dotted type',
      { types: { 'a.b': { email: 'no' } } },
      /types\["a\.b"\]\.email: must be/,
    ],
    ['an unknown key in a type', { types: { a: { push: true } } }, /types\.a: .*"push"/],
    ['a type that is not an object', { types: { a: 'never' } }, /types\.a:/],
  ])('refuses %s, naming the field', (_case, input, message) => {
    expect(() => parsePreferences(input)).toThrow(BadRequestError);
    expect(() => parsePreferences(input)).toThrow(message);
  });

  it(`refuses more than ${PREFERENCE_LIMITS.types} types and accepts exactly that many`, () => {
    const types = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, { inapp: false }]));
    expect(Object.keys(parsePreferences({ types: types(200) }).types ?? {})).toHaveLength(200);
    expect(() => parsePreferences({ types: types(201) })).toThrow(/types: must name at most 200/);
  });

  it('names at most five problems and counts the rest', () => {
    const types = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`T${i}`, {}]));
    const error = (() => {
      try {
        parsePreferences({ types });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toBe(
      'invalid preferences: types.T0: must match [a-z0-9._-]{1,64}; ' +
        'types.T1: must match [a-z0-9._-]{1,64}; types.T2: must match [a-z0-9._-]{1,64}; ' +
        'types.T3: must match [a-z0-9._-]{1,64}; types.T4: must match [a-z0-9._-]{1,64}; ' +
        'and 3 more',
    );
  });

  it('names every problem at once', () => {
    expect(() =>
      parsePreferences({ channels: { email: 'x' }, types: { 'a.b': { inapp: 1 }, B: {} } }),
    ).toThrow(/channels\.email: .*; types\["a\.b"\]\.inapp: .*; types\.B: /);
  });
});

describe('createPreferencesService', () => {
  const alice = { tenant: 'acme', userId: 'alice', topicPatterns: [] };

  it('answers empty settings and the system defaults for a user nobody configured', async () => {
    const service = createPreferencesService({ store: new FakePreferenceStore() });
    expect(await service.get(alice)).toEqual({
      preferences: {},
      tenantDefaults: {},
      effective: { channels: { inapp: true, email: 'always' }, types: {} },
      locked: [],
    });
  });

  it('shows the user, the tenant defaults and what applies for every named type', async () => {
    const store = new FakePreferenceStore();
    store.tenants.set('acme', {
      channels: { email: 'offline' },
      types: { 'invoice.ready': { email: 'always' } },
    });
    store.users.set('acme/alice', { types: { 'chat.message': { email: 'never' } } });
    const view = await createPreferencesService({ store }).get(alice);
    expect(view).toEqual({
      preferences: { types: { 'chat.message': { email: 'never' } } },
      tenantDefaults: {
        channels: { email: 'offline' },
        types: { 'invoice.ready': { email: 'always' } },
      },
      effective: {
        channels: { inapp: true, email: 'offline' },
        types: {
          'chat.message': { inapp: true, email: 'never' },
          'invoice.ready': { inapp: true, email: 'always' },
        },
      },
      locked: [],
    });
  });

  it('replaces the whole of the user preferences on put and answers what get answers', async () => {
    const store = new FakePreferenceStore();
    const service = createPreferencesService({ store });
    await service.put(alice, { channels: { email: 'never' }, types: { a: { inapp: false } } });
    const view = await service.put(alice, { types: { b: { email: 'offline' } } });
    expect(store.users.get('acme/alice')).toEqual({ types: { b: { email: 'offline' } } });
    expect(view).toEqual(await service.get(alice));
    expect(view.effective).toEqual({
      channels: { inapp: true, email: 'always' },
      types: { b: { inapp: true, email: 'offline' } },
    });
  });

  it('stores nothing when the input is refused', async () => {
    const store = new FakePreferenceStore();
    store.users.set('acme/alice', { channels: { email: 'never' } });
    const service = createPreferencesService({ store });
    await expect(service.put(alice, { channels: { email: 'nope' } })).rejects.toBeInstanceOf(
      BadRequestError,
    );
    expect(store.users.get('acme/alice')).toEqual({ channels: { email: 'never' } });
  });

  it("keeps to the caller's tenant and user", async () => {
    const store = new FakePreferenceStore();
    store.tenants.set('globex', { channels: { email: 'never' } });
    store.users.set('globex/alice', { channels: { inapp: false } });
    store.users.set('acme/bob', { channels: { inapp: false } });
    const service = createPreferencesService({ store });
    expect((await service.get(alice)).effective.channels).toEqual(SYSTEM_DEFAULTS);
    await service.put(alice, { channels: { email: 'offline' } });
    expect(store.users.get('globex/alice')).toEqual({ channels: { inapp: false } });
    expect(store.users.get('acme/bob')).toEqual({ channels: { inapp: false } });
  });
});
