/**
 * `SnoozeInbox` over the notifications table: snooze and wake are flag changes of the row
 * (`snoozedUntil`), written by the same conditional `FlagWriter` as every other flag, so the
 * row's index keys (unread, unseen, visible, hidden) always follow. A snooze lists itself in
 * the due-listing (`dynamo-snooze-listing.ts`) before it hides the row: a hidden row never
 * lacks its entry, and an entry whose row was not hidden is dropped as stale when due.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification } from '#core/model';
import type { SnoozeInbox, SnoozeOutcome } from '#core/snooze-ports';
import { minuteOf } from '#core/snooze-sweep';
import { FlagWriter } from './dynamo-flag-update';
import { type Flags, flagsOf } from './dynamo-inbox-flags';
import { InboxRetry, type InboxRetryOptions } from './dynamo-inbox-retry';
import { epochSeconds, notificationSortKey, userPartition } from './dynamo-keys';
import { fromItem } from './dynamo-notification-items';
import { DynamoSnoozeListing } from './dynamo-snooze-listing';
import { isShown } from './dynamo-unread-index';

export interface SnoozeInboxOptions extends InboxRetryOptions {
  /** The clock expiry is judged by (ms); the system clock unless a test fixes it. */
  now?: () => number;
}

export class DynamoSnoozeInbox implements SnoozeInbox {
  private readonly flags: FlagWriter;
  private readonly listing: DynamoSnoozeListing;
  private readonly now: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: SnoozeInboxOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.flags = new FlagWriter(documentClient, tableName, new InboxRetry(options), this.now);
    this.listing = new DynamoSnoozeListing(documentClient, tableName);
  }

  async snooze(tenant: string, userId: string, id: string, until: string): Promise<SnoozeOutcome> {
    const pk = userPartition(tenant, userId);
    const item = await this.row(pk, id);
    if (item === undefined) return { kind: 'missing' };
    if (typeof item.expiresAt === 'number' && item.expiresAt <= epochSeconds(Date.parse(until))) {
      return { kind: 'expires-first', expiresAt: item.expiresAt };
    }
    const known = flagsOf(item);
    if (known.archived) return { kind: 'archived' };
    await this.listing.add({ tenant, userId, id, until }, minuteOf(until));
    let archived = false;
    const { outcome } = await this.flags.apply(
      pk,
      id,
      (flags): Flags | undefined => {
        archived = flags.archived;
        return flags.archived ? undefined : { ...flags, snoozedUntil: until };
      },
      known,
    );
    if (outcome === 'missing') return { kind: 'missing' };
    // Archived meanwhile: its entry finds no such snooze when due, and is dropped.
    return archived ? { kind: 'archived' } : { kind: 'snoozed' };
  }

  async wake(
    tenant: string,
    userId: string,
    id: string,
    until?: string,
  ): Promise<Notification | undefined> {
    const pk = userPartition(tenant, userId);
    let shown = false;
    const { outcome } = await this.flags.apply(pk, id, (flags): Flags | undefined => {
      if (flags.snoozedUntil === undefined) return undefined;
      if (until !== undefined && flags.snoozedUntil !== until) return undefined;
      // One archived while snoozed stays archived: its snooze just ends, quietly.
      shown = !flags.archived;
      const { snoozedUntil: _ended, ...rest } = flags;
      return flags.archived ? rest : { ...rest, read: false, seen: false };
    });
    if (outcome !== 'flipped' || !shown) return undefined;
    const item = await this.row(pk, id);
    return item === undefined ? undefined : fromItem(item);
  }

  /** The row, strongly consistent; undefined when it is not its owner's to see. */
  private async row(pk: string, id: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk, sk: notificationSortKey(id) },
        ConsistentRead: true,
      }),
    );
    return Item === undefined || !isShown(Item, this.now()) ? undefined : Item;
  }
}
