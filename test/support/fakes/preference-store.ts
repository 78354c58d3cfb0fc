import type { ChannelPreferences, Preferences } from '#core/model';
import type { PreferenceKey, PreferenceStore } from '#core/ports';
import { createTypeTable, EMAIL_MODES } from '#core/preferences';

/**
 * Preferences kept in maps; `reads` records lookups, so a test can see what was fetched.
 * As `DynamoPreferenceStore` does, it keeps a copy of only the channel settings it knows
 * and hands back a fresh copy each time, its per-type table without a prototype.
 */
export class FakePreferenceStore implements PreferenceStore {
  readonly users = new Map<string, Preferences>();
  readonly tenants = new Map<string, Preferences>();
  readonly reads: string[] = [];
  /** Records each key as `user` and `tenantDefaults` do, and the request in `manyReads`. */
  readonly manyReads: number[] = [];

  async user(tenant: string, userId: string): Promise<Preferences | undefined> {
    this.reads.push(`user ${tenant}/${userId}`);
    return copy(this.users.get(`${tenant}/${userId}`));
  }
  async putUser(tenant: string, userId: string, preferences: Preferences): Promise<void> {
    this.users.set(`${tenant}/${userId}`, copy(preferences));
  }
  async many(keys: readonly PreferenceKey[]): Promise<Array<Preferences | undefined>> {
    this.manyReads.push(keys.length);
    return Promise.all(
      keys.map(({ tenant, userId }) =>
        userId === undefined ? this.tenantDefaults(tenant) : this.user(tenant, userId),
      ),
    );
  }
  async tenantDefaults(tenant: string): Promise<Preferences | undefined> {
    this.reads.push(`tenant ${tenant}`);
    return copy(this.tenants.get(tenant));
  }
  async putTenantDefaults(tenant: string, preferences: Preferences): Promise<void> {
    this.tenants.set(tenant, copy(preferences));
  }
}

function copy(preferences: Preferences): Preferences;
function copy(preferences: Preferences | undefined): Preferences | undefined;
function copy(preferences: Preferences | undefined): Preferences | undefined {
  if (preferences === undefined) return undefined;
  const copied: Preferences = {};
  const channels = settingsOf(preferences.channels);
  if (channels !== undefined) copied.channels = channels;
  if (preferences.types !== undefined) {
    copied.types = createTypeTable(
      Object.entries(preferences.types).map(([type, settings]) => [
        type,
        settingsOf(settings) ?? {},
      ]),
    );
  }
  if (preferences.critical !== undefined) copied.critical = [...preferences.critical];
  return copied;
}

/** Only the known channel fields with valid values, as the adapter stores them. */
function settingsOf(value: unknown): Partial<ChannelPreferences> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { inapp, email } = value as { inapp?: unknown; email?: unknown };
  const settings: Partial<ChannelPreferences> = {};
  if (typeof inapp === 'boolean') settings.inapp = inapp;
  if ((EMAIL_MODES as readonly unknown[]).includes(email)) {
    settings.email = email as ChannelPreferences['email'];
  }
  return settings;
}
