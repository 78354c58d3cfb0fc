import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#core/errors';
import type { Preferences } from '#core/model';
import {
  createPreferencesService,
  isCritical,
  PREFERENCE_LIMITS,
  parsePreferences,
  parseTenantDefaults,
  resolveChannels,
} from '#core/preferences';
import { FakePreferenceStore } from '#test/support/fakes';

const tenant: Preferences = {
  channels: { email: 'offline' },
  types: { 'security.alert': { email: 'always' } },
  critical: ['security.alert', 'billing.failed'],
};

describe('critical types in resolveChannels', () => {
  const muting: Preferences = {
    channels: { inapp: false, email: 'never' },
    types: {
      'security.alert': { inapp: false, email: 'never' },
      'billing.failed': { email: 'never' },
    },
  };

  it("ignores every setting of the user's for a critical type", () => {
    expect(resolveChannels('security.alert', muting, tenant)).toEqual({
      inapp: true,
      email: 'always',
    });
    // No type setting of the tenant's: its channels, then the system default.
    expect(resolveChannels('billing.failed', muting, tenant)).toEqual({
      inapp: true,
      email: 'offline',
    });
  });

  it('leaves other types to the user', () => {
    expect(resolveChannels('chat.message', muting, tenant)).toEqual({
      inapp: false,
      email: 'never',
    });
  });

  it('knows a type critical only by its exact name', () => {
    expect(isCritical(tenant, 'security.alert')).toBe(true);
    expect(isCritical(tenant, 'security')).toBe(false);
    expect(isCritical(undefined, 'security.alert')).toBe(false);
    expect(isCritical({ critical: [] }, 'constructor')).toBe(false);
  });
});

describe('parseTenantDefaults', () => {
  it('takes critical types, each once, sorted', () => {
    expect(parseTenantDefaults({ critical: ['b.x', 'a.y', 'b.x'] })).toEqual({
      critical: ['a.y', 'b.x'],
    });
  });

  it.each([
    ['not a list', { critical: 'a.b' }, 'critical: must be a list of types'],
    ['a bad name', { critical: ['Bad Type'] }, 'critical[0]: must match [a-z0-9._-]{1,64}'],
    [
      'too many',
      { critical: Array.from({ length: PREFERENCE_LIMITS.types + 1 }, (_, i) => `t${i}`) },
      `critical: must name at most ${PREFERENCE_LIMITS.types} types`,
    ],
  ])('refuses %s, naming the field', (_case, input, message) => {
    expect(() => parseTenantDefaults(input)).toThrow(BadRequestError);
    expect(() => parseTenantDefaults(input)).toThrow(message);
  });

  it("refuses `critical` in a user's preferences", () => {
    expect(() => parsePreferences({ critical: ['a.b'] })).toThrow(
      'critical: only a tenant makes types critical',
    );
  });
});

describe('preferences service with critical types', () => {
  const alice = { tenant: 'acme', userId: 'alice', topicPatterns: [] };

  function serviceWith(store = new FakePreferenceStore()) {
    store.tenants.set('acme', tenant);
    return { store, service: createPreferencesService({ store }) };
  }

  it('lists the locked types and what applies to them', async () => {
    const { store, service } = serviceWith();
    // Stored before the tenant locked the type: kept, shown, but not applied.
    store.users.set('acme/alice', { types: { 'billing.failed': { inapp: false } } });
    const view = await service.get(alice);
    expect(view.locked).toEqual(['billing.failed', 'security.alert']);
    expect(view.effective.types['billing.failed']).toEqual({ inapp: true, email: 'offline' });
    expect(view.effective.types['security.alert']).toEqual({ inapp: true, email: 'always' });
  });

  it('refuses a put that sets a critical type, naming it, and stores nothing', async () => {
    const { store, service } = serviceWith();
    store.users.set('acme/alice', { channels: { email: 'offline' } });
    const put = service.put(alice, {
      types: { 'security.alert': { email: 'never' }, 'chat.message': { inapp: false } },
    });
    await expect(put).rejects.toBeInstanceOf(BadRequestError);
    await expect(put).rejects.toThrow(
      'types["security.alert"]: security.alert is critical for this tenant (locked)',
    );
    expect(store.users.get('acme/alice')).toEqual({ channels: { email: 'offline' } });
  });

  it('accepts a put that leaves critical types alone, even when it mutes everything', async () => {
    const { store, service } = serviceWith();
    const view = await service.put(alice, {
      channels: { inapp: false, email: 'never' },
      types: { 'security.alert': {} },
    });
    expect(store.users.get('acme/alice')?.channels).toEqual({ inapp: false, email: 'never' });
    expect(view.effective.channels).toEqual({ inapp: false, email: 'never' });
    expect(view.effective.types['security.alert']).toEqual({ inapp: true, email: 'always' });
  });
});
