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
  /**
   * One page of the connections subscribed to a topic, at most `limit` long, after `cursor`;
   * with `until`, none past that cursor's entry (a range `topicPages` found).
   */
  listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Promise<Page<ConnectionRef>>;
  /**
   * Where a topic's pages of at most `pageSize` subscribers lie, after `cursor`, reading keys
   * only: up to `maxPages` ranges, and `rest` when the topic goes on past the last of them.
   */
  topicPages(
    tenant: string,
    topic: string,
    walk: { cursor?: string; pageSize: number; maxPages: number },
  ): Promise<TopicPages>;
  /**
   * Adds `topics` to the connection. With `maxTopics`, refuses the whole call with a
   * `LimitExceededError` (`too_many_subscriptions`) when the connection would then hold
   * more, checked in the same conditional write, so concurrent frames cannot overshoot it.
   */
  subscribe(
    connection: Connection,
    topics: string[],
    expiresAt: number,
    limits?: { maxTopics: number },
  ): Promise<void>;
  unsubscribe(connection: Connection, topics: string[]): Promise<void>;
}

export type {
  ConnectionLifetimes,
  ExpiringConnection,
  FrameBudget,
  FrameRule,
  FrameVerdict,
} from './lifetime-ports';

/** A topic's subscribers after `cursor` (from the first without one) up to `until`, inclusive. */
export interface TopicRange {
  cursor?: string;
  until: string;
}

export interface TopicPages {
  /** Consecutive ranges in key order: together they hold every subscriber walked, once. */
  pages: TopicRange[];
  /** Where the subscribers not walked start (after this cursor), when there are any. */
  rest?: string;
}

export type {
  FanOutInbox,
  FlagChange,
  InboxChange,
  InboxQuery,
  OwnerInbox,
  StoreOutcome,
} from './inbox-ports';

/** Posts one frame to one connection. Throws ConnectionGoneError or RetryableError. */
export interface Delivery {
  post(connectionId: string, data: string): Promise<void>;
}

/** Closes a connection at API Gateway (DeleteConnection); one already gone is no error. */
export interface Disconnector {
  disconnect(connectionId: string): Promise<void>;
}

/**
 * Work the fan-out hands to a later invocation through its own queue: the next page of a
 * big topic broadcast, or a retry narrowed to what failed (so a retry never pushes twice
 * to connections already served). The notification is rebuilt from the envelope and its
 * publish time, which is what keeps its id stable.
 */
export type FanOutTask =
  /**
   * With `until`, one page of a broadcast: the subscribers after `cursor` up to `until`.
   * Without, every subscriber after `cursor`, still to be split into pages.
   */
  | {
      kind: 'broadcast-page';
      envelope: Envelope;
      publishedAt: number;
      cursor: string;
      until?: string;
    }
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
  /** Hands on several tasks at once, in as few requests as the queue takes. */
  enqueueMany(tasks: readonly FanOutTask[]): Promise<void>;
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

/** Who is about to mail a notification to a user, and until when (ms) nobody else may. */
export interface MailLease {
  /** Unique per attempt to send (never shared by two senders that may run at once). */
  claimant: string;
  leaseUntil: number;
  /** Now (ms): a claim whose `leaseUntil` is not after it has run out. */
  now: number;
  /** When the record goes (epoch s, TTL): the end of the idempotency horizon. */
  expiresAt: number;
}

/**
 * What a claim found: `claimed` (the caller may send), `sent` (someone did), or `held`
 * (another sender holds a lease that has not run out).
 */
export type MailClaim = 'claimed' | 'sent' | 'held';

/**
 * Which notifications were mailed to whom, so that each (notification, user) is mailed once
 * however many deliveries of it run, one after another or at the same time. A sender claims
 * before sending and marks the mail sent after; a claim whose lease ran out without being
 * marked (its sender died) may be claimed again.
 */
export interface MailLog {
  /**
   * One conditional write: claims the mail when there is no record, or one whose lease ran
   * out and that is not marked sent; otherwise says why not.
   */
  claim(
    tenant: string,
    userId: string,
    notificationId: string,
    lease: MailLease,
  ): Promise<MailClaim>;
  /** Marks the mail sent. False when `claimant` no longer holds the claim. */
  markSent(
    tenant: string,
    userId: string,
    notificationId: string,
    claimant: string,
  ): Promise<boolean>;
  /** Gives up a claim not marked sent, so another sender need not wait for its lease. */
  release(tenant: string, userId: string, notificationId: string, claimant: string): Promise<void>;
}

/**
 * Remembers, per tenant and event id, when an event was first published, until the idempotency
 * horizon. Publishing an id again (a publisher's retry) within it yields the first publish
 * time, hence the same notification id, and every recipient's inbox recognises it as one it
 * already has, however many notifications came between. After it, the id is new again.
 */
export interface EventLedger {
  /**
   * Records `publishedAt` unless the event is known and its record has not expired by then
   * (`expiresAt`, epoch s, is when a record made now expires); returns the first publish time
   * either way.
   */
  firstPublished(
    tenant: string,
    eventId: string,
    publishedAt: number,
    expiresAt: number,
  ): Promise<number>;
}

/** Whose preferences: a user's, or without `userId` their tenant's defaults. */
export interface PreferenceKey {
  tenant: string;
  userId?: string;
}

/** A user's (or a tenant's default) notification preferences, as stored. */
export interface PreferenceStore {
  user(tenant: string, userId: string): Promise<Preferences | undefined>;
  /** Several at once, users' and tenants' mixed, answered in the order asked. */
  many(keys: readonly PreferenceKey[]): Promise<Array<Preferences | undefined>>;
  putUser(tenant: string, userId: string, preferences: Preferences): Promise<void>;
  tenantDefaults(tenant: string): Promise<Preferences | undefined>;
  putTenantDefaults(tenant: string, preferences: Preferences): Promise<void>;
}

/**
 * Reads a recipient's stored notifications forwards from a cursor, oldest first: what
 * `resume` replays to a connection that was away.
 */
/** A notification as its history holds it: with the time it was filed (not published). */
export interface StoredNotification {
  notification: Notification;
  /**
   * When the fan-out filed it (epoch ms). A retried batch files a notification long after
   * its id's publish time; this is what tells a late one from one the client already had.
   */
  storedAt: number;
}

export interface ReplaySource {
  /**
   * When the recipient's history filed the notification with this id (epoch ms), or
   * undefined when it holds no such notification.
   */
  storedAt(recipient: Recipient, id: string): Promise<number | undefined>;
  /** Up to `limit` of the recipient's notifications with an id after `afterId`, oldest first. */
  after(recipient: Recipient, afterId: string, limit: number): Promise<StoredNotification[]>;
}

/** Where envelopes of one collapse key meet: one slot per recipient (user or topic) and key. */
export interface CollapseSlot {
  recipient: Recipient;
  collapseKey: string;
  /** A change events' slot: apart from the notifications' slot of the same key. */
  live?: boolean;
}

/**
 * An envelope offered to a collapse window. `id` is its notification id, which sorts by
 * publish time (ties broken by a hash of the event id), so "latest" is the greatest `id`.
 */
export interface CollapseCandidate {
  id: string;
  envelope: Envelope;
  publishedAt: number;
}

/** What a collapse slot holds. */
export type CollapseSlotState =
  /** A window taking envelopes until `windowEnds` (ms), or, once `closing`, being delivered. */
  | {
      kind: 'open';
      windowId: string;
      windowEnds: number;
      closing: boolean;
      latest: CollapseCandidate;
    }
  /** No window: `latest` is what the last window (`lastWindowId`) delivered. */
  | { kind: 'settled'; lastWindowId: string; latest: CollapseCandidate };

export type CollapseOffer =
  /** The candidate opened a new window, whose id is the candidate's id. */
  | { kind: 'claimed'; windowEnds: number }
  /** The candidate is now the latest of an open window someone else claimed. */
  | { kind: 'joined'; windowId: string; windowEnds: number }
  /** Neither: the slot as it was, for the caller to decide. */
  | { kind: 'refused'; slot: CollapseSlotState };

/** Shared state of collapse windows, so that concurrent invocations coalesce together. */
export interface CollapseStore {
  /**
   * Makes the candidate the latest of the slot's open window (if it ends after `now`, is not
   * closing and holds nothing newer), or opens a window ending at `windowEnds` claimed by it
   * (if the slot has no window and delivered nothing newer). One conditional write.
   */
  offer(
    slot: CollapseSlot,
    candidate: CollapseCandidate,
    window: { now: number; windowEnds: number },
    expiresAt: number,
  ): Promise<CollapseOffer>;
  /**
   * Replaces a window whose claimant seems gone (unchanged since it was read as `stale`) by
   * a new one claimed by `windowId`, holding `latest`. False when it changed meanwhile.
   */
  adopt(
    slot: CollapseSlot,
    stale: { windowId: string; latestId: string },
    claim: { windowId: string; windowEnds: number; latest: CollapseCandidate },
    expiresAt: number,
  ): Promise<boolean>;
  /**
   * Stops the window taking envelopes and returns its latest; undefined when the slot no
   * longer holds this window (another invocation adopted it). Idempotent.
   */
  close(slot: CollapseSlot, windowId: string): Promise<CollapseCandidate | undefined>;
  /** Ends the window, keeping what it delivered as the slot's latest. False when not this window. */
  settle(
    slot: CollapseSlot,
    windowId: string,
    delivered: CollapseCandidate,
    expiresAt: number,
  ): Promise<boolean>;
}
