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

/** A slice of a big topic broadcast, handed to another invocation. */
export interface BroadcastPage {
  kind: 'broadcast-page';
  envelope: Envelope;
  notification: Notification;
  cursor: string;
}

export interface Continuations {
  enqueue(page: BroadcastPage): Promise<void>;
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
