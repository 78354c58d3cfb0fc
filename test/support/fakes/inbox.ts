import { RECENT_EVENTS_HIGH, RECENT_EVENTS_KEPT } from '#adapters/dynamo-fan-out-inbox';
import { fromItem, toItem } from '#adapters/dynamo-notification-items';
import { MAX_LIST_ROUNDS, SCAN_PAGE } from '#adapters/dynamo-owner-inbox';
import { BadRequestError } from '#core/errors';
import type { Notification, Page, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import type { FanOutInbox, InboxChange, InboxQuery, OwnerInbox, StoreOutcome } from '#core/ports';
import { recipientKey } from './recipients';

/**
 * The inbox in memory: `FanOutInbox` for the fan-out, `OwnerInbox` for the inbox service,
 * over one store as the two Dynamo adapters share one table. It behaves as they do:
 * - a redelivery (the same id) is never stored twice; a user recognises a re-published
 *   event (a new id, the same event id) only among their recent events, the window the
 *   STATE item keeps (`RECENT_EVENTS_KEPT` to `RECENT_EVENTS_HIGH`), and answers with the
 *   first notification's id and time; past the window an event is new again;
 * - read state and the unread count move together, as the DynamoDB transactions make them;
 * - what it keeps is what the table keeps (the adapters' own item mapping): only a
 *   notification's fields, and for a topic's history no read state;
 * - pages are read as DynamoDB reads them: a page that fills its limit ends with a cursor
 *   even when nothing follows, and a cursor issued for another recipient is refused.
 */
export class FakeInbox implements FanOutInbox, OwnerInbox {
  /** Notifications by `<recipient key>/<id>` (see `recipientKey`). */
  readonly items = new Map<string, Notification>();
  /** Recipient keys (see `recipientKey`) whose store throws. */
  failFor = new Set<string>();
  storeCalls = 0;
  /** Calls of the read-state methods, e.g. `markRead acme/alice 01J…`. */
  readonly calls: string[] = [];
  private readonly counts = new Map<string, number>();
  /** Each user's recent events: event id to first publish time (ms). */
  private readonly recent = new Map<string, Map<string, number>>();

  async store(
    recipient: Recipient,
    notification: Notification,
    _expiresAt?: number,
  ): Promise<StoreOutcome> {
    this.storeCalls++;
    const key = recipientKey(recipient);
    if (this.failFor.has(key)) throw new Error(`store failed for ${key}`);
    const itemKey = `${key}/${notification.id}`;
    // The conditional Put: a redelivery, by its id.
    if (this.items.has(itemKey)) return { fresh: false };
    if (recipient.kind === 'topic') {
      this.items.set(itemKey, stored(recipient, notification));
      return { fresh: true };
    }
    // The claim on the STATE item: a known recent event is not stored again, not even
    // after the user deleted it; a re-publish answers with the first notification.
    const publishedAt = Date.parse(notification.createdAt);
    const events = this.recentOf(key);
    const first = events.get(notification.eventId);
    if (first !== undefined) {
      if (first === publishedAt) return { fresh: false };
      const id = notificationId(first, recipient.tenant, notification.eventId);
      const createdAt = new Date(first).toISOString();
      return { fresh: false, notification: { ...notification, id, createdAt } };
    }
    events.set(notification.eventId, publishedAt);
    if (events.size > RECENT_EVENTS_HIGH) {
      const newest = [...events].sort(([, a], [, b]) => b - a).slice(0, RECENT_EVENTS_KEPT);
      this.recent.set(key, new Map(newest));
    }
    this.items.set(itemKey, stored(recipient, notification));
    if (!notification.read) this.move(key, 1);
    return { fresh: true };
  }

  /** Reads as the adapter's queries do: newest first, an unread-only filter after each read. */
  async list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>> {
    const key = recipientKey(recipient);
    const unreadOnly = query.unreadOnly === true && recipient.kind === 'user';
    const all = this.itemsOf(key).sort((a, b) => (a.id < b.id ? 1 : -1));
    const after = decodeCursor(query.cursor, key);
    let position = after === undefined ? 0 : all.findIndex((note) => note.id < after);
    if (position < 0) position = all.length;
    const items: Notification[] = [];
    let truncated = false;
    let stopped = false;
    for (let round = 0; round < MAX_LIST_ROUNDS; round++) {
      const limit = unreadOnly ? Math.max(SCAN_PAGE, query.limit) : query.limit - items.length;
      const read = all.slice(position, position + limit);
      position += read.length;
      const found = unreadOnly ? read.filter((note) => !note.read) : read;
      const room = query.limit - items.length;
      items.push(...found.slice(0, room));
      truncated = found.length > room;
      // DynamoDB hands back a key whenever it stops at its limit, whatever follows.
      stopped = read.length === limit;
      if (items.length >= query.limit || !stopped) break;
    }
    const resumeAfter =
      items.length >= query.limit ? items.at(-1)?.id : stopped ? all[position - 1]?.id : undefined;
    const page = { items: items.map((note) => structuredClone(note)) };
    return (truncated || stopped) && resumeAfter !== undefined
      ? { ...page, cursor: encodeCursor(key, resumeAfter) }
      : page;
  }

  async get(tenant: string, userId: string, id: string): Promise<Notification | undefined> {
    const note = this.items.get(this.key(tenant, userId, id));
    return note && structuredClone(note);
  }

  async unreadCount(tenant: string, userId: string): Promise<number> {
    return this.counts.get(recipientKey({ kind: 'user', tenant, userId })) ?? 0;
  }

  async markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    this.calls.push(`markRead ${tenant}/${userId} ${ids.join(',')}`);
    const missing: string[] = [];
    let delta = 0;
    for (const id of new Set(ids)) {
      const note = this.items.get(this.key(tenant, userId, id));
      if (!note) missing.push(id);
      else if (!note.read) {
        note.read = true;
        delta--;
      }
    }
    this.move(recipientKey({ kind: 'user', tenant, userId }), delta);
    return { missing, unreadDelta: delta };
  }

  async markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`markUnread ${tenant}/${userId} ${id}`);
    const note = this.items.get(this.key(tenant, userId, id));
    if (!note) return { missing: [id], unreadDelta: 0 };
    if (!note.read) return { missing: [], unreadDelta: 0 };
    note.read = false;
    this.move(recipientKey({ kind: 'user', tenant, userId }), 1);
    return { missing: [], unreadDelta: 1 };
  }

  async markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    this.calls.push(`markAllRead ${tenant}/${userId}`);
    const unread = this.itemsOf(recipientKey({ kind: 'user', tenant, userId }))
      .filter((note) => !note.read)
      .map((note) => note.id);
    const { unreadDelta } = await this.markRead(tenant, userId, unread);
    return { missing: [], unreadDelta };
  }

  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`remove ${tenant}/${userId} ${id}`);
    const key = this.key(tenant, userId, id);
    const note = this.items.get(key);
    if (!note) return { missing: [id], unreadDelta: 0 };
    this.items.delete(key);
    const delta = note.read ? 0 : -1;
    this.move(recipientKey({ kind: 'user', tenant, userId }), delta);
    return { missing: [], unreadDelta: delta };
  }

  private itemsOf(owner: string): Notification[] {
    const prefix = `${owner}/`;
    return [...this.items.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, note]) => note);
  }

  private recentOf(owner: string): Map<string, number> {
    let events = this.recent.get(owner);
    if (events === undefined) {
      events = new Map();
      this.recent.set(owner, events);
    }
    return events;
  }

  private key(tenant: string, userId: string, id: string): string {
    return `${recipientKey({ kind: 'user', tenant, userId })}/${id}`;
  }

  private move(owner: string, delta: number): void {
    this.counts.set(owner, (this.counts.get(owner) ?? 0) + delta);
  }
}

/** The notification as its item reads back. */
function stored(recipient: Recipient, notification: Notification): Notification {
  return fromItem(structuredClone(toItem(recipient, notification)));
}

/** An opaque cursor naming its recipient and the last id served, as the adapter's key does. */
function encodeCursor(owner: string, lastId: string): string {
  return Buffer.from(JSON.stringify({ owner, lastId })).toString('base64url');
}

/** The last id served, from a cursor issued for this recipient; any other is a bad request. */
function decodeCursor(cursor: string | undefined, owner: string): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const { owner: of, lastId } = (decoded ?? {}) as { owner?: unknown; lastId?: unknown };
    if (of === owner && typeof lastId === 'string') return lastId;
  } catch {
    // Not a cursor of ours: refused below, as one for someone else is.
  }
  throw new BadRequestError('cursor is not valid');
}
