/**
 * The inbox's ports: where the fan-out files notifications, and the owner's own view of
 * them. Re-exported by `./ports`.
 */
import type { InboxCounts, Notification, Page, Recipient } from './model';

/** What storing a notification found. `fresh` is false when the recipient has it already. */
export interface StoreOutcome {
  fresh: boolean;
}

/** The inbox as the fan-out sees it: where it files each new notification, one per recipient, once. */
export interface FanOutInbox {
  /**
   * Stores the notification for its recipient unless the recipient has it already, by its
   * id: a redelivery, or a re-publish, which the event ledger gave its first notification
   * id. For a user, also not once they deleted it, until the `expiresAt` it was stored with.
   * The conditional write that stores it is the idempotency check: it costs no request of
   * its own.
   */
  store(recipient: Recipient, notification: Notification, expiresAt: number): Promise<StoreOutcome>;
}

/** One page of a user's inbox, newest first. */
export interface InboxQuery {
  limit: number;
  cursor?: string;
  /** Only notifications not yet read. */
  unreadOnly?: boolean;
}

/** What a read-state change did. */
export interface InboxChange {
  /** Ids not in this user's inbox: never stored, deleted, expired, or someone else's. */
  missing: string[];
  /** How far the unread count moved: negative for reads and unread deletions, 0 for no change. */
  unreadDelta: number;
  /** How far the unseen count moved, likewise. */
  unseenDelta?: number;
  /** How many notifications it changed (any flag), when it knows; 0 when none. */
  changed?: number;
}

/** A flag change of one notification (see `OwnerInbox.change`). */
export type FlagChange = 'seen' | 'archive' | 'unarchive' | 'interact';

/**
 * The inbox as its owner sees it (through the HTTP API and the socket): their own view: listing, read state, deletion. Every call is addressed
 * by the caller's tenant and user, so another user's notification is simply not found.
 * The unread count is always the number of unread notifications (counted, never kept
 * beside them), and one past its `expiresAt` is gone for every call, counted or listed.
 */
export interface OwnerInbox {
  list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>>;
  get(tenant: string, userId: string, id: string): Promise<Notification | undefined>;
  unreadCount(tenant: string, userId: string): Promise<number>;
  /** Both counts, each a count of the rows as they are (unread, unseen). */
  counts(tenant: string, userId: string): Promise<InboxCounts>;
  /** One notification's flags changed; `interact` marks interacted, read and seen. */
  change(tenant: string, userId: string, id: string, change: FlagChange): Promise<InboxChange>;
  /** Marks every unseen notification seen (the bell was opened). */
  markAllSeen(tenant: string, userId: string): Promise<InboxChange>;
  markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange>;
  markUnread(tenant: string, userId: string, id: string): Promise<InboxChange>;
  markAllRead(tenant: string, userId: string): Promise<InboxChange>;
  remove(tenant: string, userId: string, id: string): Promise<InboxChange>;
}
