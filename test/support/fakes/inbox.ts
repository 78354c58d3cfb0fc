import { countDeltas, flagsOf, indexesOf } from '#adapters/dynamo-inbox-flags';
import { fromItem, toItem } from '#adapters/dynamo-notification-items';
import { MAX_LIST_ROUNDS, TRANSITIONS } from '#adapters/dynamo-owner-inbox';
import { BadRequestError } from '#core/errors';
import type { InboxCounts, Notification, Page, Recipient } from '#core/model';
import type {
  FanOutInbox,
  FlagChange,
  InboxChange,
  InboxQuery,
  OwnerInbox,
  StoreOutcome,
} from '#core/ports';
import { recipientKey } from './recipients';

/**
 * The inbox in memory: `FanOutInbox` for the fan-out, `OwnerInbox` for the inbox service,
 * over one store as the two Dynamo adapters share one table. It behaves as they do:
 * - a notification (by its id: a redelivery, or a re-publish the event ledger gave its
 *   first id) is never stored twice; one a user deleted leaves a tombstone, so it does not
 *   come back either, and the tombstone is read (and skipped) by listings as the table's is;
 * - the counts are the unread (unseen) items that are neither archived nor snoozed,
 *   counted, as the adapter's indexes count them; a user's list reads their index
 *   (`visible`, or `unread`), where no tombstone is;
 * - an item whose `expiresAt` (epoch s) has passed is gone for every read and change, as
 *   the adapter treats a row that DynamoDB's TTL has yet to delete;
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
  /**
   * The clock expiry is judged by (ms): by default the epoch, so nothing expires for tests
   * that pay no heed to retention; the contract suite gives it the system clock.
   */
  now: () => number = () => 0;
  /** `expiresAt` (epoch s) by the same key as `items`. */
  private readonly expiries = new Map<string, number>();
  /** Keys (as `items`) of deleted notifications' tombstones, kept until they expire. */
  private readonly tombstones = new Set<string>();

  async store(
    recipient: Recipient,
    notification: Notification,
    expiresAt?: number,
  ): Promise<StoreOutcome> {
    this.storeCalls++;
    const key = recipientKey(recipient);
    if (this.failFor.has(key)) throw new Error(`store failed for ${key}`);
    const itemKey = `${key}/${notification.id}`;
    // The conditional Put: a redelivery, by its id, also of one deleted since.
    if (this.items.has(itemKey) || this.tombstones.has(itemKey)) return { fresh: false };
    if (expiresAt !== undefined) this.expiries.set(itemKey, expiresAt);
    this.items.set(itemKey, stored(recipient, notification));
    return { fresh: true };
  }

  /** Reads as the adapter's queries do: newest first, a user's through the index asked for. */
  async list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>> {
    const key = recipientKey(recipient);
    const index = query.unreadOnly === true ? 'unread' : 'visible';
    // A topic's partition holds its rows and any tombstones; a user's index only rows.
    const all =
      recipient.kind === 'user'
        ? this.itemsOf(key).filter((note) => indexesOf(flagsOf({ ...note }))[index])
        : [
            ...this.itemsOf(key),
            ...this.tombstonesOf(key).map((id) => ({ id, tombstone: true as const })),
          ];
    all.sort((a, b) => (a.id < b.id ? 1 : -1));
    const after = decodeCursor(query.cursor, key);
    let position = after === undefined ? 0 : all.findIndex((note) => note.id < after);
    if (position < 0) position = all.length;
    const items: Notification[] = [];
    let stopped = false;
    for (let round = 0; round < MAX_LIST_ROUNDS; round++) {
      const limit = query.limit - items.length;
      const read = all.slice(position, position + limit);
      position += read.length;
      const found = read.filter(
        (note): note is Notification => !('tombstone' in note) && this.live(key, note),
      );
      items.push(...found);
      // DynamoDB hands back a key whenever it stops at its limit, whatever follows.
      stopped = read.length === limit;
      if (items.length >= query.limit || !stopped) break;
    }
    const resumeAfter = stopped ? all[position - 1]?.id : undefined;
    const page = { items: items.map((note) => structuredClone(note)) };
    return stopped && resumeAfter !== undefined
      ? { ...page, cursor: encodeCursor(key, resumeAfter) }
      : page;
  }

  async get(tenant: string, userId: string, id: string): Promise<Notification | undefined> {
    const note = this.found(tenant, userId, id);
    return note && structuredClone(note);
  }

  async unreadCount(tenant: string, userId: string): Promise<number> {
    return (await this.counts(tenant, userId)).unread;
  }

  async counts(tenant: string, userId: string): Promise<InboxCounts> {
    const owner = recipientKey({ kind: 'user', tenant, userId });
    const member = this.itemsOf(owner)
      .filter((note) => this.live(owner, note))
      .map((note) => indexesOf(flagsOf({ ...note })));
    return {
      unread: member.filter((of) => of.unread).length,
      unseen: member.filter((of) => of.unseen).length,
    };
  }

  async change(
    tenant: string,
    userId: string,
    id: string,
    change: FlagChange,
  ): Promise<InboxChange> {
    this.calls.push(`${change} ${tenant}/${userId} ${id}`);
    return this.apply(tenant, userId, [id], TRANSITIONS[change]);
  }

  async markAllSeen(tenant: string, userId: string): Promise<InboxChange> {
    this.calls.push(`markAllSeen ${tenant}/${userId}`);
    const owner = recipientKey({ kind: 'user', tenant, userId });
    const unseen = this.itemsOf(owner)
      .filter((note) => this.live(owner, note) && indexesOf(flagsOf({ ...note })).unseen)
      .map((note) => note.id);
    return { ...(await this.apply(tenant, userId, unseen, TRANSITIONS.seen)), missing: [] };
  }

  /** Applies the adapter's own transition to each, as its conditional writes would. */
  private async apply(
    tenant: string,
    userId: string,
    ids: string[],
    transition: (typeof TRANSITIONS)[keyof typeof TRANSITIONS],
  ): Promise<Required<InboxChange>> {
    const total = { missing: [] as string[], unreadDelta: 0, unseenDelta: 0, changed: 0 };
    for (const id of new Set(ids)) {
      const note = this.found(tenant, userId, id);
      if (!note) {
        total.missing.push(id);
        continue;
      }
      const before = flagsOf({ ...note });
      const after = transition(before);
      if (after === undefined || JSON.stringify(after) === JSON.stringify(before)) continue;
      const deltas = countDeltas(before, after);
      Object.assign(note, after);
      if (after.snoozedUntil === undefined) delete note.snoozedUntil;
      total.unreadDelta += deltas.unread;
      total.unseenDelta += deltas.unseen;
      total.changed += 1;
    }
    return total;
  }

  async markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    this.calls.push(`markRead ${tenant}/${userId} ${ids.join(',')}`);
    return this.apply(tenant, userId, ids, TRANSITIONS.read);
  }

  async markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`markUnread ${tenant}/${userId} ${id}`);
    return this.apply(tenant, userId, [id], TRANSITIONS.unread);
  }

  async markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    this.calls.push(`markAllRead ${tenant}/${userId}`);
    const owner = recipientKey({ kind: 'user', tenant, userId });
    const unread = this.itemsOf(owner)
      .filter((note) => this.live(owner, note) && indexesOf(flagsOf({ ...note })).unread)
      .map((note) => note.id);
    return { ...(await this.apply(tenant, userId, unread, TRANSITIONS.read)), missing: [] };
  }

  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`remove ${tenant}/${userId} ${id}`);
    const key = this.key(tenant, userId, id);
    const note = this.found(tenant, userId, id);
    if (!note) return { missing: [id], unreadDelta: 0, unseenDelta: 0, changed: 0 };
    // The tombstone keeps the row's `expiresAt`.
    this.items.delete(key);
    this.tombstones.add(key);
    const before = flagsOf({ ...note });
    const deltas = countDeltas(before, { ...before, archived: true });
    return { missing: [], unreadDelta: deltas.unread, unseenDelta: deltas.unseen, changed: 1 };
  }

  /**
   * Removes an item as DynamoDB's TTL (or anything outside Herald) would: no read-state
   * change, nothing told. Whether it was there.
   */
  expire(recipient: Recipient, id: string): boolean {
    const key = `${recipientKey(recipient)}/${id}`;
    this.expiries.delete(key);
    const tombstone = this.tombstones.delete(key);
    return this.items.delete(key) || tombstone;
  }

  /** A user's item that is there and not expired. */
  private found(tenant: string, userId: string, id: string): Notification | undefined {
    const owner = recipientKey({ kind: 'user', tenant, userId });
    const note = this.items.get(`${owner}/${id}`);
    return note && this.live(owner, note) ? note : undefined;
  }

  /** Whether the item's `expiresAt` is still ahead, as the adapter's condition reads it. */
  private live(owner: string, note: Notification): boolean {
    const expiresAt = this.expiries.get(`${owner}/${note.id}`);
    return expiresAt === undefined || expiresAt > Math.floor(this.now() / 1000);
  }

  private itemsOf(owner: string): Notification[] {
    const prefix = `${owner}/`;
    return [...this.items.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, note]) => note);
  }

  private tombstonesOf(owner: string): string[] {
    const prefix = `${owner}/`;
    return [...this.tombstones]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
  }

  private key(tenant: string, userId: string, id: string): string {
    return `${recipientKey({ kind: 'user', tenant, userId })}/${id}`;
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
