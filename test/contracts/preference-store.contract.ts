/**
 * The `PreferenceStore` contract (see `functions/core/ports.ts`): a user's preferences and
 * their tenant's defaults, each replaced whole, read one by one or many at once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { PreferenceStore } from '#core/ports';
import { parsePreferences, parseTenantDefaults, resolveChannels } from '#core/preferences';
import { unique } from './names';

export function preferenceStoreContract(make: () => PreferenceStore): void {
  describe('PreferenceStore', () => {
    let store: PreferenceStore;
    let tenant: string;

    beforeEach(() => {
      store = make();
      tenant = unique('tenant');
    });

    const mine = parsePreferences({
      channels: { inapp: false, email: 'offline' },
      types: { 'comment.created': { email: 'never' }, 'build.done': { inapp: true } },
    });
    const defaults = parsePreferences({ types: { 'invoice.ready': { email: 'offline' } } });

    it('answers undefined for a user and a tenant that have none', async () => {
      expect(await store.user(tenant, 'nobody')).toBeUndefined();
      expect(await store.tenantDefaults(tenant)).toBeUndefined();
    });

    it("keeps a user's preferences, replacing them whole", async () => {
      await store.putUser(tenant, 'alice', mine);
      expect(await store.user(tenant, 'alice')).toEqual(mine);

      await store.putUser(tenant, 'alice', { channels: { email: 'always' } });
      expect(await store.user(tenant, 'alice')).toEqual({ channels: { email: 'always' } });
    });

    it('keeps tenant defaults apart from users and from other tenants', async () => {
      const other = unique('tenant');
      await store.putTenantDefaults(tenant, defaults);
      await store.putUser(other, 'alice', mine);

      expect(await store.tenantDefaults(tenant)).toEqual(defaults);
      expect(await store.tenantDefaults(other)).toBeUndefined();
      expect(await store.user(tenant, 'alice')).toBeUndefined();
      expect(await store.user(other, 'alice')).toEqual(mine);
    });

    it("keeps a tenant's critical types, read one by one and many at once", async () => {
      const locking = parseTenantDefaults({
        channels: { email: 'offline' },
        critical: ['security.alert', 'billing.failed'],
      });
      await store.putTenantDefaults(tenant, locking);

      expect(await store.tenantDefaults(tenant)).toEqual({
        channels: { email: 'offline' },
        critical: ['billing.failed', 'security.alert'],
      });
      expect(await store.many([{ tenant }])).toEqual([locking]);
    });

    it('reads many at once, users and tenants mixed, duplicates too, in the order asked', async () => {
      await store.putUser(tenant, 'u-7', mine);
      await store.putTenantDefaults(tenant, defaults);
      const keys = [
        ...Array.from({ length: 120 }, (_, i) => ({ tenant, userId: `u-${i}` })),
        { tenant },
        { tenant, userId: 'u-7' },
        { tenant: unique('tenant') },
      ];

      const found = await store.many(keys);

      expect(found).toHaveLength(keys.length);
      expect(found[7]).toEqual(mine);
      expect(found[120]).toEqual(defaults);
      expect(found[121]).toEqual(mine);
      expect(found.filter((each) => each !== undefined)).toHaveLength(3);
      expect(await store.many([])).toEqual([]);
    });

    it('hands back a copy: changing what was read or written changes nothing stored', async () => {
      const written = parsePreferences({ channels: { inapp: true } });
      await store.putUser(tenant, 'alice', written);
      if (written.channels) written.channels.inapp = false;
      const read = await store.user(tenant, 'alice');
      if (read?.channels) read.channels.inapp = false;

      expect(await store.user(tenant, 'alice')).toEqual({ channels: { inapp: true } });
    });

    it('round-trips types named like Object.prototype members', async () => {
      const preferences = parsePreferences(
        JSON.parse(
          '{"types":{"__proto__":{"email":"never"},"constructor":{"inapp":false},"x":{}}}',
        ),
      );
      await store.putUser(tenant, 'mallory', preferences);

      const read = await store.user(tenant, 'mallory');

      expect(Object.keys(read?.types ?? {})).toEqual(['__proto__', 'constructor', 'x']);
      expect(resolveChannels('__proto__', read, undefined)).toEqual({
        inapp: true,
        email: 'never',
      });
      expect(JSON.stringify(read)).toBe(JSON.stringify(preferences));
    });
  });
}
