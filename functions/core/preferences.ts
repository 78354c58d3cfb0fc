import * as z from 'zod';
import { BadRequestError } from './errors';
import type { ChannelPreferences, EmailMode, Identity, Preferences } from './model';
import type { PreferenceStore } from './ports';

/** What applies when neither the user nor the tenant said otherwise: the publisher's channels. */
export const SYSTEM_DEFAULTS: ChannelPreferences = Object.freeze({ inapp: true, email: 'always' });

export const EMAIL_MODES = ['always', 'never', 'offline'] as const satisfies readonly EmailMode[];

export const PREFERENCE_LIMITS = {
  /** Per-type settings one user (or tenant) may keep. */
  types: 200,
} as const;

/** The envelope's `type` charset, so any type a publisher can send can be configured. */
const TYPE_NAME = /^[a-z0-9._-]{1,64}$/;

type ChannelSettings = Partial<ChannelPreferences>;
type TypeTable = Record<string, ChannelSettings>;

/**
 * The channels that apply to one notification type for one user: the most specific
 * setting wins, from the user's setting for this type down to the system default.
 */
export function resolveChannels(
  type: string,
  user: Preferences | undefined,
  tenant: Preferences | undefined,
): ChannelPreferences {
  const tenantLayers = [tenant?.channels, typeSettings(tenant, type)];
  // A critical type is the tenant's alone: no setting of the user's reaches it.
  if (isCritical(tenant, type)) return applyLayers(tenantLayers);
  return applyLayers([...tenantLayers, user?.channels, typeSettings(user, type)]);
}

/** Whether the tenant made this type critical, so that users cannot change its channels. */
export function isCritical(tenant: Preferences | undefined, type: string): boolean {
  return tenant?.critical?.includes(type) ?? false;
}

/** The channels for a type nobody named: system default, then tenant, then user channels. */
function resolveUntypedChannels(
  user: Preferences | undefined,
  tenant: Preferences | undefined,
): ChannelPreferences {
  return applyLayers([tenant?.channels, user?.channels]);
}

function applyLayers(layers: Array<ChannelSettings | undefined>): ChannelPreferences {
  const resolved = { ...SYSTEM_DEFAULTS };
  for (const layer of layers) {
    if (layer?.inapp !== undefined) resolved.inapp = layer.inapp;
    if (layer?.email !== undefined) resolved.email = layer.email;
  }
  return resolved;
}

// Own keys only: a type named `constructor` or `__proto__` must not find Object.prototype's.
function typeSettings(preferences: Preferences | undefined, type: string) {
  const types = preferences?.types;
  return types !== undefined && Object.hasOwn(types, type) ? types[type] : undefined;
}

/**
 * A fresh table of per-type settings. It has no prototype, so every type name (including
 * `__proto__`, valid by the charset) is an ordinary own key, and no inherited key answers.
 */
export function createTypeTable(entries: Iterable<[string, ChannelSettings]> = []): TypeTable {
  const table: TypeTable = Object.create(null);
  for (const [type, settings] of entries) table[type] = settings;
  return table;
}

const channelSettings = z.strictObject({
  inapp: z.boolean({ error: 'must be true or false' }).optional(),
  email: z.enum(EMAIL_MODES, { error: 'must be "always", "never" or "offline"' }).optional(),
});

// Not z.record: it drops a `__proto__` key (to protect its own `{}`), which would lose the
// settings of a type by that name without a word. Entries are checked one by one instead.
const typeTable = z.unknown().transform((input, ctx): TypeTable => {
  if (!isPlainObject(input)) {
    ctx.addIssue({ code: 'custom', input, message: 'must be an object keyed by type' });
    return z.NEVER;
  }
  const entries = Object.entries(input);
  if (entries.length > PREFERENCE_LIMITS.types) {
    ctx.addIssue({
      code: 'custom',
      input,
      message: `must name at most ${PREFERENCE_LIMITS.types} types`,
    });
    return z.NEVER;
  }
  const table = createTypeTable();
  for (const [type, value] of entries) {
    if (!TYPE_NAME.test(type)) {
      ctx.addIssue({
        code: 'custom',
        input,
        path: [type],
        message: 'must match [a-z0-9._-]{1,64}',
      });
      continue;
    }
    const parsed = channelSettings.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({
          code: 'custom',
          input,
          path: [type, ...issue.path],
          message: issue.message,
        });
      }
      continue;
    }
    table[type] = parsed.data;
  }
  return table;
});

// Only for a wrong type: a custom message for every issue would hide unknown keys.
const objectError = {
  error: (issue: { code: string }) =>
    issue.code === 'invalid_type' ? 'must be an object' : undefined,
};

/** `PUT /preferences` body, compiled once. Unknown keys (`critical` too) are refused. */
const preferencesSchema = z.strictObject(
  { channels: channelSettings.optional(), types: typeTable.optional() },
  objectError,
);

/** The critical types of a tenant: distinct type names, sorted, so a listing is stable. */
const criticalTypes = z
  .array(z.string().regex(TYPE_NAME, 'must match [a-z0-9._-]{1,64}'), {
    error: 'must be a list of types',
  })
  .max(PREFERENCE_LIMITS.types, `must name at most ${PREFERENCE_LIMITS.types} types`)
  .transform((types) => [...new Set(types)].sort());

/** Tenant defaults: what a user may set, and the tenant's critical types. */
const tenantDefaultsSchema = z.strictObject(
  {
    channels: channelSettings.optional(),
    types: typeTable.optional(),
    critical: criticalTypes.optional(),
  },
  objectError,
);

const MAX_REPORTED_PROBLEMS = 5;

/** Validates a user's preferences; throws BadRequestError naming each field. */
export function parsePreferences(input: unknown): Preferences {
  if (isPlainObject(input) && Object.hasOwn(input, 'critical')) {
    throw new BadRequestError(
      'invalid preferences: critical: only a tenant makes types critical, in its defaults',
    );
  }
  return parseWith(preferencesSchema, input);
}

/** Validates a tenant's defaults (with `critical`); throws BadRequestError naming each field. */
export function parseTenantDefaults(input: unknown): Preferences {
  return parseWith(tenantDefaultsSchema, input);
}

function parseWith(schema: z.ZodType<Preferences, unknown>, input: unknown): Preferences {
  const result = schema.safeParse(input);
  if (!result.success) {
    const { issues } = result.error;
    // Enough to fix the input, short enough for an error body (200 bad types make 200 issues).
    const problems = issues.slice(0, MAX_REPORTED_PROBLEMS).map((issue) => {
      const path = formatPath(issue.path);
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    if (issues.length > MAX_REPORTED_PROBLEMS) {
      problems.push(`and ${issues.length - MAX_REPORTED_PROBLEMS} more`);
    }
    throw new BadRequestError(`invalid preferences: ${problems.join('; ')}`);
  }
  return result.data;
}

/** `types["comment.created"].email`: type names hold dots, so a dotted path would be ambiguous. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let formatted = '';
  for (const segment of path) {
    const key = String(segment);
    if (typeof segment === 'number') formatted += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) formatted += formatted ? `.${key}` : key;
    else formatted += `[${JSON.stringify(key)}]`;
  }
  return formatted;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** What `GET /preferences` and `PUT /preferences` answer. */
export interface PreferencesView {
  /** The user's own settings as last saved; `{}` when never set. */
  preferences: Preferences;
  /** The tenant's defaults beneath them; `{}` when none. */
  tenantDefaults: Preferences;
  /**
   * What applies after resolution (user type > user channels > tenant type > tenant
   * channels > system default): `channels` for any type not listed, `types` for every
   * type the user or the tenant named.
   */
  effective: { channels: ChannelPreferences; types: Record<string, ChannelPreferences> };
  /** The tenant's critical types, sorted: the user's settings do not apply to them. */
  locked: string[];
}

export interface PreferencesServiceDeps {
  store: PreferenceStore;
}

export type PreferencesService = ReturnType<typeof createPreferencesService>;

type Caller = Pick<Identity, 'tenant' | 'userId'>;

/** The caller's own preferences, read and replaced: the HTTP API's `/preferences`. */
export function createPreferencesService({ store }: PreferencesServiceDeps) {
  return {
    async get(caller: Caller): Promise<PreferencesView> {
      const [user, tenant] = await Promise.all([
        store.user(caller.tenant, caller.userId),
        store.tenantDefaults(caller.tenant),
      ]);
      return preferencesView(user ?? {}, tenant ?? {});
    },

    /** Replaces the caller's preferences (PUT semantics: what is not given is unset). */
    async put(caller: Caller, input: unknown): Promise<PreferencesView> {
      const preferences = parsePreferences(input);
      const tenant = (await store.tenantDefaults(caller.tenant)) ?? {};
      refuseLockedSettings(preferences, tenant);
      await store.putUser(caller.tenant, caller.userId, preferences);
      return preferencesView(preferences, tenant);
    },
  };
}

/**
 * Refuses settings for a critical type rather than storing settings that would not apply:
 * a user who turned one off must hear that it stays on. `{}` (nothing set) is accepted.
 */
function refuseLockedSettings(user: Preferences, tenant: Preferences): void {
  const locked = Object.entries(user.types ?? {})
    .filter(([type, settings]) => isCritical(tenant, type) && Object.keys(settings).length > 0)
    .map(([type]) => type);
  if (locked.length === 0) return;
  const problems = locked
    .slice(0, MAX_REPORTED_PROBLEMS)
    .map((type) => `${formatPath(['types', type])}: ${type} is critical for this tenant (locked)`);
  if (locked.length > MAX_REPORTED_PROBLEMS) {
    problems.push(`and ${locked.length - MAX_REPORTED_PROBLEMS} more`);
  }
  throw new BadRequestError(
    `invalid preferences: ${problems.join('; ')}; a critical type cannot be muted or changed`,
  );
}

export function preferencesView(user: Preferences, tenant: Preferences): PreferencesView {
  const locked = tenant.critical ?? [];
  const named = new Set([
    ...Object.keys(tenant.types ?? {}),
    ...Object.keys(user.types ?? {}),
    ...locked,
  ]);
  const types: Record<string, ChannelPreferences> = Object.create(null);
  for (const type of [...named].sort()) types[type] = resolveChannels(type, user, tenant);
  return {
    preferences: user,
    tenantDefaults: tenant,
    effective: { channels: resolveUntypedChannels(user, tenant), types },
    locked: [...locked].sort(),
  };
}
