/** Who a verified token says the caller is. Produced by the authorizer, carried on every route. */
export interface Identity {
  tenant: string;
  userId: string;
  /** NATS-style patterns (`project.*`, `org.acme.>`) the caller may subscribe to. */
  topicPatterns: string[];
  /** Address for email notifications, when the token carries one. */
  email?: string;
  /**
   * When the token stops being valid (its `exp`, epoch seconds): the connection opened with
   * it ends then unless a `refresh` frame extends it. Absent only where no token was read.
   */
  tokenExpiresAt?: number;
}

/** A live WebSocket connection as stored: who holds it and what it listens to. */
export interface Connection extends Identity {
  connectionId: string;
  connectedAt: number;
  /** Topics this connection subscribed to (empty until it subscribes). */
  topics: string[];
}

/** How the fan-out addresses one connection: enough to post to it and to prune it. */
export interface ConnectionRef {
  connectionId: string;
  userId: string;
  /**
   * The token expiry the listing entry holds (epoch s). A `refresh` may have extended it
   * since: past it, the connection entry is asked before the connection is treated as expired.
   */
  tokenExpiresAt?: number;
}

/** One page of a paginated listing; `cursor` is opaque and present when more pages follow. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

/**
 * `live`: pushed to the recipients' live connections only, as a `change` frame: never
 * stored in the inbox, counted or mailed. It stands alone (never with `inapp` or `email`).
 */
export type Channel = 'inapp' | 'email' | 'live';

export type Audience = { users: string[] } | { topic: string };

/** A validated publish envelope (DESIGN.md "Publish envelope"). */
export interface Envelope {
  id: string;
  type: string;
  to: Audience;
  tenant: string;
  title?: string;
  body?: string;
  data?: Record<string, unknown>;
  url?: string;
  channels: Channel[];
  collapseKey?: string;
  /** Short labels a UI files it under (tabs, filters); stored on the notification. */
  tags?: string[];
  /** Up to two buttons; a press is reported with `interact`. */
  actions?: NotificationAction[];
}

/** A button on a notification: what it says and where it leads. */
export interface NotificationAction {
  label: string;
  url: string;
}

/** Who a notification is stored for: one user's inbox, or a topic's history. */
export type Recipient =
  | { kind: 'user'; tenant: string; userId: string }
  | { kind: 'topic'; tenant: string; topic: string };

/** A notification as clients see it (WebSocket `notification` frame, HTTP API). */
export interface Notification {
  /** Time-sortable; the `resume` cursor. */
  id: string;
  eventId: string;
  type: string;
  title?: string;
  body?: string;
  data?: Record<string, unknown>;
  url?: string;
  topic?: string;
  createdAt: string;
  read: boolean;
  /** The user saw it in the feed (the bell was opened): apart from `read`. */
  seen: boolean;
  /** Hidden from the default list, listable, reversible. */
  archived: boolean;
  /** The user pressed one of its `actions`. */
  interacted: boolean;
  /** Hidden until then (ISO); set and cleared by snooze. */
  snoozedUntil?: string;
  tags?: string[];
  actions?: NotificationAction[];
}

/** The counts a badge shows: neither counts an archived or snoozed notification. */
export interface InboxCounts {
  unread: number;
  unseen: number;
}

/**
 * A change event as clients see it (WebSocket `change` frame): something of `type` changed,
 * refetch it. Pushed live only, never stored; coalesced by `collapseKey`.
 */
export interface Change {
  /** Time-sortable, in the same order as notification ids. */
  id: string;
  eventId: string;
  type: string;
  collapseKey?: string;
  topic?: string;
  data?: Record<string, unknown>;
  /** When it was published (ISO). */
  at: string;
}

/**
 * The last change of one kind (its `collapseKey`, else its `type`) a recipient was pushed,
 * as `resume` reports it to a client that was away.
 */
export interface ChangeSummary {
  kind: string;
  type: string;
  id: string;
  at: string;
}

/** When email goes out: always, never, or only when the user has no live connection at send time. */
export type EmailMode = 'always' | 'never' | 'offline';

export interface ChannelPreferences {
  inapp: boolean;
  email: EmailMode;
}

/**
 * Notification preferences: channel settings for every type, overridden per notification
 * `type`. Stored per user, with tenant defaults beneath.
 */
export interface Preferences {
  channels?: Partial<ChannelPreferences>;
  types?: Record<string, Partial<ChannelPreferences>>;
}
