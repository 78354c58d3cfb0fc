/**
 * The ports the core needs from the outside world. Adapters in `functions/adapters/`
 * implement them over AWS; tests implement them with plain objects.
 */
import type {
  Connection,
  ConnectionRef,
  Envelope,
  Identity,
  Notification,
  Page,
  Preferences,
  Recipient,
} from './model';

export interface ConnectionStore {
  /** Records a new connection under its user (and its own id), expiring at `expiresAt` (epoch s). */
  put(connection: Connection, expiresAt: number): Promise<void>;
  /** The connection with its subscribed topics, or undefined when unknown. */
  get(connectionId: string): Promise<Connection | undefined>;
  /** Removes every item of the connection (user entry, topic entries, itself). Idempotent. */
  remove(connectionId: string): Promise<void>;
  /** One page of a user's connections. */
  listForUser(tenant: string, userId: string, cursor?: string): Promise<Page<ConnectionRef>>;
  /** One page of the connections subscribed to a topic, at most `limit` long. */
  listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number },
  ): Promise<Page<ConnectionRef>>;
  subscribe(connection: Connection, topics: string[], expiresAt: number): Promise<void>;
  unsubscribe(connection: Connection, topics: string[]): Promise<void>;
}

/** What storing a notification found. `fresh` is false when this id was stored before. */
export interface StoreOutcome {
  fresh: boolean;
  /** Connections an earlier attempt could not reach; a retry serves only these. */
  undelivered?: string[];
}

export interface Inbox {
  /**
   * Stores the notification for its recipient unless one with the same id is there:
   * the conditional write is the idempotency check, so it costs no request of its own.
   */
  store(recipient: Recipient, notification: Notification, expiresAt: number): Promise<StoreOutcome>;
  /** Records the connections a push could not reach (an empty list clears the record). */
  setUndelivered(
    recipient: Recipient,
    notificationId: string,
    connectionIds: string[],
  ): Promise<void>;
}

/** Posts one frame to one connection. Throws ConnectionGoneError or RetryableError. */
export interface Delivery {
  post(connectionId: string, data: string): Promise<void>;
}

/**
 * Work the fan-out hands to a later invocation through its own queue: the next page of a
 * big topic broadcast, or a retry narrowed to what failed (so a retry never pushes twice
 * to connections already served). The notification is rebuilt from the envelope and its
 * publish time, which is what keeps its id stable.
 */
export type FanOutTask =
  | { kind: 'broadcast-page'; envelope: Envelope; publishedAt: number; cursor: string }
  | { kind: 'retry-users'; envelope: Envelope; publishedAt: number; attempt: number }
  | {
      kind: 'retry-connections';
      envelope: Envelope;
      publishedAt: number;
      connections: ConnectionRef[];
      attempt: number;
    };

export interface Continuations {
  enqueue(task: FanOutTask, delaySeconds?: number): Promise<void>;
}

/** Where a message that can never be processed goes, with its reason. */
export interface DeadLetters {
  reject(body: string, reason: string): Promise<void>;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** Verifies a bearer token and says who it belongs to. Throws UnauthorizedError. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What Herald knows of a user beyond their tokens: the address captured at connect. */
export interface Directory {
  rememberEmail(tenant: string, userId: string, email: string): Promise<void>;
  emailOf(tenant: string, userId: string): Promise<string | undefined>;
}

/** Which notifications were mailed to whom, so a redelivered message mails nobody twice. */
export interface MailLog {
  wasSent(tenant: string, userId: string, notificationId: string): Promise<boolean>;
  recordSent(tenant: string, userId: string, notificationId: string): Promise<void>;
}

/**
 * Remembers, per tenant and event id, when an event was first published. Publishing an id
 * again (a publisher's retry) then yields the first publish time, hence the same
 * notification id, and every recipient's inbox recognises it as one it already has.
 */
export interface EventLedger {
  /** Records `publishedAt` unless the event is known; returns the first publish time either way. */
  firstPublished(
    tenant: string,
    eventId: string,
    publishedAt: number,
    expiresAt: number,
  ): Promise<number>;
}

/** A user's (or a tenant's default) notification preferences, as stored. */
export interface PreferenceStore {
  user(tenant: string, userId: string): Promise<Preferences | undefined>;
  putUser(tenant: string, userId: string, preferences: Preferences): Promise<void>;
  tenantDefaults(tenant: string): Promise<Preferences | undefined>;
  putTenantDefaults(tenant: string, preferences: Preferences): Promise<void>;
}
