/**
 * `PreferenceStore` over the notifications table: one item per user
 * (`U#{tenant}#{user}` / `PREFS`) and one per tenant (`TENANT#{tenant}` / `PREFS`).
 *
 * Per-type settings are stored as a list of `{type, inapp?, email?}`, not as a map keyed
 * by type: the SDK's (un)marshaller builds maps by assignment into `{}`, which turns a type
 * named `__proto__` into a prototype instead of a key.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BackoffPolicy } from '#core/backoff';
import type { ChannelPreferences, EmailMode, Preferences } from '#core/model';
import { type PreferenceKey, type PreferenceStore, systemClock } from '#core/ports';
import { createTypeTable, EMAIL_MODES } from '#core/preferences';
import { batchGetAll } from './dynamo-batch';
import { type ItemKey, tenantPreferencesKey, userPreferencesKey } from './dynamo-keys';

type ChannelSettings = Partial<ChannelPreferences>;

/** Requests one batch of keys may take while DynamoDB leaves some unprocessed. */
const BATCH_GET_ATTEMPTS = 8;
/** Waits between those requests: 50 ms ceiling for the first retry, doubling, at most 1 s. */
const BATCH_GET_BACKOFF: BackoffPolicy = { baseDelayMs: 50, maxDelayMs: 1_000 };

function keyId(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

interface StoredTypeSettings extends ChannelSettings {
  type: string;
}

export interface PreferenceStoreOptions {
  now?: () => number;
  /**
   * Strongly consistent reads (the default): a mail sent right after someone said "never"
   * is a bug to them. The fan-out reads eventually consistent, for half a read unit: an
   * in-app push within a second of a change to its preference is not.
   */
  consistentReads?: boolean;
}

export class DynamoPreferenceStore implements PreferenceStore {
  private readonly now: () => number;
  private readonly consistentReads: boolean;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: PreferenceStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.consistentReads = options.consistentReads ?? true;
  }

  user(tenant: string, userId: string): Promise<Preferences | undefined> {
    return this.read(userPreferencesKey(tenant, userId));
  }

  putUser(tenant: string, userId: string, preferences: Preferences): Promise<void> {
    return this.write(userPreferencesKey(tenant, userId), preferences);
  }

  tenantDefaults(tenant: string): Promise<Preferences | undefined> {
    return this.read(tenantPreferencesKey(tenant));
  }

  putTenantDefaults(tenant: string, preferences: Preferences): Promise<void> {
    return this.write(tenantPreferencesKey(tenant), preferences);
  }

  /** Users' and tenants' preferences at once; keys asked twice are read once. */
  async many(keys: readonly PreferenceKey[]): Promise<Array<Preferences | undefined>> {
    const itemKeys = keys.map(({ tenant, userId }) =>
      userId === undefined ? tenantPreferencesKey(tenant) : userPreferencesKey(tenant, userId),
    );
    const unique = [...new Map(itemKeys.map((key) => [keyId(key), key])).values()];
    const items = await batchGetAll(this.doc, this.tableName, unique, {
      projection: 'pk, sk, channels, #types, critical',
      names: { '#types': 'types' },
      consistentRead: this.consistentReads,
      attempts: BATCH_GET_ATTEMPTS,
      backoff: { policy: BATCH_GET_BACKOFF, sleep: systemClock.sleep },
      what: 'preference reads',
    });
    const found = new Map(
      items.map((item) => [keyId({ pk: String(item.pk), sk: String(item.sk) }), fromItem(item)]),
    );
    return itemKeys.map((key) => found.get(keyId(key)));
  }

  private async read(key: ItemKey): Promise<Preferences | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ProjectionExpression: 'channels, #types, critical',
        ExpressionAttributeNames: { '#types': 'types' },
        ConsistentRead: this.consistentReads,
      }),
    );
    return Item === undefined ? undefined : fromItem(Item);
  }

  private async write(key: ItemKey, preferences: Preferences): Promise<void> {
    const item: Record<string, unknown> = { ...key, updatedAt: this.now() };
    const channels = settingsOf(preferences.channels);
    if (channels !== undefined) item.channels = channels;
    if (preferences.types !== undefined) {
      item.types = Object.entries(preferences.types).map(
        ([type, settings]): StoredTypeSettings => ({ type, ...settingsOf(settings) }),
      );
    }
    if (preferences.critical !== undefined) item.critical = [...preferences.critical];
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }
}

/** Reads back what `write` stored, ignoring anything it could not have written. */
function fromItem(item: Record<string, unknown>): Preferences {
  const preferences: Preferences = {};
  const channels = settingsOf(item.channels);
  if (channels !== undefined) preferences.channels = channels;
  if (Array.isArray(item.types)) {
    preferences.types = createTypeTable(
      item.types.flatMap((entry: unknown): Array<[string, ChannelSettings]> => {
        if (typeof entry !== 'object' || entry === null) return [];
        const { type } = entry as { type?: unknown };
        return typeof type === 'string' ? [[type, settingsOf(entry) ?? {}]] : [];
      }),
    );
  }
  if (Array.isArray(item.critical)) {
    preferences.critical = item.critical.filter((type): type is string => typeof type === 'string');
  }
  return preferences;
}

/** Only the known channel fields with valid values, so nothing else reaches the table or back. */
function settingsOf(value: unknown): ChannelSettings | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { inapp, email } = value as { inapp?: unknown; email?: unknown };
  const settings: ChannelSettings = {};
  if (typeof inapp === 'boolean') settings.inapp = inapp;
  if (isEmailMode(email)) settings.email = email;
  return settings;
}

function isEmailMode(value: unknown): value is EmailMode {
  return (EMAIL_MODES as readonly unknown[]).includes(value);
}
