/**
 * The caller's inbox over the HTTP API, as typed methods: list by filter, counts for a set
 * of filters (tabs), the per-notification actions, bulk actions by filter, and preferences.
 * Every call acts on the signed-in user's own inbox; every change also reaches the user's
 * live connections as a `state` frame.
 */
import type {
  ChannelPreferences,
  Notification,
  NotificationAction,
  Preferences,
} from '../functions/core/model';
import { HttpApi, type HttpOptions, TokenSource } from './http';

/**
 * A notification in the inbox, with its states (`read`, `seen`, `archived`, `interacted`,
 * `snoozedUntil`), `tags` and up to two `actions`: the server's own type.
 */
export type InboxNotification = Notification;

/**
 * Which notifications: each field narrows. Archived ones are left out unless
 * `archived: true`; snoozed ones unless `snoozed: true`.
 */
export interface InboxFilter {
  tag?: string;
  type?: string;
  topic?: string;
  read?: boolean;
  seen?: boolean;
  archived?: boolean;
  snoozed?: boolean;
}

export interface ListOptions extends InboxFilter {
  /** 1–100; the server's default is 20. */
  limit?: number;
  /** The previous page's `cursor`. */
  cursor?: string;
}

export interface InboxPage {
  items: InboxNotification[];
  /** Present while more pages follow. */
  cursor?: string;
}

/** The user's badge counts (neither counts archived or snoozed notifications). */
export interface BadgeCounts {
  unread: number;
  unseen: number;
}

export interface CountsResult<Name extends string = string> extends BadgeCounts {
  counts: Record<Name, number>;
}

export type BulkAction = 'read' | 'seen' | 'archive' | 'unarchive' | 'delete';

export interface BulkResult extends BadgeCounts {
  /** Notifications selected that still needed the action, over every call. */
  matched: number;
  changed: number;
  /** The newest id it applied to: pass it again to retry over exactly the same ones. */
  upTo?: string;
}

export interface PreferencesView {
  preferences: Preferences;
  tenantDefaults: Preferences;
  effective: { channels: ChannelPreferences; types: Record<string, ChannelPreferences> };
  /** Critical types of the caller's tenant: shown, never mutable. */
  locked: string[];
}

export type { ChannelPreferences, NotificationAction, Preferences };

const FILTER_KEYS = ['tag', 'type', 'topic', 'read', 'seen', 'archived', 'snoozed'] as const;

export class InboxApi {
  constructor(private readonly http: HttpApi) {}

  /** One page, newest first; pass the answer's `cursor` for the next one. */
  async list(options: ListOptions = {}): Promise<InboxPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    for (const key of FILTER_KEYS) {
      const value = options[key];
      if (value !== undefined) query.set(key, String(value));
    }
    const search = query.toString();
    const suffix = search === '' ? '' : `?${search}`;
    const body = await this.http.call('GET', `/notifications${suffix}`);
    const items = Array.isArray(body.items) ? (body.items as InboxNotification[]) : [];
    return typeof body.cursor === 'string' ? { items, cursor: body.cursor } : { items };
  }

  /** How many match each named filter (1–10 of them), with the badge counts, in one call. */
  async counts<Name extends string>(
    filters: Record<Name, InboxFilter>,
  ): Promise<CountsResult<Name>> {
    const body = await this.http.call('POST', '/notifications/counts', { filters });
    const counts = (isObject(body.counts) ? body.counts : {}) as Record<Name, number>;
    return { counts, ...badgeOf(body) };
  }

  /** The badge counts alone (`GET /notifications/unread-count`). */
  async badge(): Promise<BadgeCounts> {
    return badgeOf(await this.http.call('GET', '/notifications/unread-count'));
  }

  markRead(id: string): Promise<BadgeCounts> {
    return this.act(id, 'read');
  }

  markUnread(id: string): Promise<BadgeCounts> {
    return this.act(id, 'unread');
  }

  markSeen(id: string): Promise<BadgeCounts> {
    return this.act(id, 'seen');
  }

  archive(id: string): Promise<BadgeCounts> {
    return this.act(id, 'archive');
  }

  unarchive(id: string): Promise<BadgeCounts> {
    return this.act(id, 'unarchive');
  }

  /** Hides it until `until`; then it is back, unread, and pushed live. */
  snooze(id: string, until: Date | string): Promise<BadgeCounts> {
    const iso = typeof until === 'string' ? until : until.toISOString();
    return this.act(id, 'snooze', { until: iso });
  }

  /** Brings a snoozed notification back now: visible, unread and unseen. */
  unsnooze(id: string): Promise<BadgeCounts> {
    return this.act(id, 'unsnooze');
  }

  /** The user pressed action `actionIndex` (0 or 1): marks it interacted, read and seen. */
  interact(id: string, actionIndex: number): Promise<BadgeCounts> {
    return this.act(id, 'interact', { action: actionIndex });
  }

  async remove(id: string): Promise<BadgeCounts> {
    return badgeOf(await this.http.call('DELETE', `/notifications/${encodeURIComponent(id)}`));
  }

  /** The bell was opened: every unseen notification becomes seen. */
  async seenAll(): Promise<BadgeCounts> {
    return badgeOf(await this.http.call('POST', '/notifications/seen-all'));
  }

  async readAll(): Promise<BadgeCounts> {
    return badgeOf(await this.http.call('POST', '/notifications/read-all'));
  }

  /**
   * Applies `action` to everything matching `filter` (with id at most `upTo`: by default the
   * newest matching when it starts), as one logical request. A large inbox may take the
   * server several calls (each answers 202 with a cursor); this follows them to the end and
   * answers the totals. Safe to retry: pass the answered `upTo` again and nothing filed
   * since is touched; what already had the action is not changed twice.
   */
  async bulk(
    action: BulkAction,
    filter: InboxFilter = {},
    options: { upTo?: string; requestId?: string } = {},
  ): Promise<BulkResult> {
    let upTo = options.upTo;
    let cursor: string | undefined;
    let matched = 0;
    let changed = 0;
    for (;;) {
      const body = await this.http.call('POST', '/notifications/bulk', {
        action,
        filter,
        ...(upTo === undefined ? {} : { upTo }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
      });
      matched += numberOr(body.matched, 0);
      changed += numberOr(body.changed, 0);
      if (typeof body.upTo === 'string') upTo = body.upTo;
      cursor = body.done === false && typeof body.cursor === 'string' ? body.cursor : undefined;
      if (cursor === undefined) {
        return { matched, changed, ...badgeOf(body), ...(upTo === undefined ? {} : { upTo }) };
      }
    }
  }

  private async act(id: string, action: string, body?: unknown): Promise<BadgeCounts> {
    const path = `/notifications/${encodeURIComponent(id)}/${action}`;
    return badgeOf(await this.http.call('POST', path, body));
  }
}

export class PreferencesApi {
  constructor(private readonly http: HttpApi) {}

  async get(): Promise<PreferencesView> {
    return viewOf(await this.http.call('GET', '/preferences'));
  }

  /** Replaces the caller's preferences (anything not sent is unset); locked types stay as they are. */
  async put(preferences: Preferences): Promise<PreferencesView> {
    return viewOf(await this.http.call('PUT', '/preferences', preferences));
  }
}

/**
 * The HTTP API alone, without a socket (a server-rendered page, a script): the same typed
 * methods as `client.inbox` and `client.preferences`.
 */
export function httpClient(options: HttpOptions & { httpUrl: string }): {
  inbox: InboxApi;
  preferences: PreferencesApi;
} {
  const http = new HttpApi(options, new TokenSource(options.token, options.now));
  return { inbox: new InboxApi(http), preferences: new PreferencesApi(http) };
}

function viewOf(body: Record<string, unknown>): PreferencesView {
  const view = body as unknown as Partial<PreferencesView>;
  return {
    preferences: view.preferences ?? {},
    tenantDefaults: view.tenantDefaults ?? {},
    effective: view.effective ?? { channels: { inapp: true, email: 'always' }, types: {} },
    locked: Array.isArray(view.locked) ? view.locked : [],
  };
}

/** Servers without `unseen` yet count unseen as unread (the shared contract). */
function badgeOf(body: Record<string, unknown>): BadgeCounts {
  const unread = numberOr(body.unread, 0);
  return { unread, unseen: numberOr(body.unseen, unread) };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
