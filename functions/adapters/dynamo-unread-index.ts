/**
 * A user's notifications as the table's sparse indexes hold them (see
 * `functions/config/inbox-indexes.ts`): how many are unread, unseen, ..., and which. Every
 * read is strongly consistent and skips rows whose TTL has passed, which DynamoDB may take
 * days to delete: from its `expiresAt` on, a notification is gone for every reader,
 * counted or listed. Also the conditions "alive" and "shown" every reader shares.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { INBOX_INDEXES, type InboxIndexName } from '#config/inbox-indexes';
import { TABLE_KEYS } from '#config/topology';
import { type Flags, flagsOf } from './dynamo-inbox-flags';
import { epochSeconds, NOTIFICATION_PREFIX } from './dynamo-keys';
import { isTombstone, TOMBSTONE_MARKER } from './dynamo-notification-items';

/** Index entries one Query of ids reads (small projected entries: a page is a few read units). */
export const INDEX_PAGE = 200;

/** Where a read of an index stopped: the index's own key, opaque to callers. */
export type IndexKey = Record<string, unknown>;

/** The condition "this row has not expired", over `#expiresAt` and `:now` (epoch s). */
export const LIVE_CONDITION = '(attribute_not_exists(#expiresAt) OR #expiresAt > :now)';

/** Whether a row read back is still alive at `nowMs`: the reading twin of `LIVE_CONDITION`. */
export function isLive(item: Record<string, unknown>, nowMs: number): boolean {
  return typeof item.expiresAt !== 'number' || item.expiresAt > epochSeconds(nowMs);
}

/**
 * The condition "this row is the owner's to see": alive, and not the tombstone of one they
 * deleted; over `#expiresAt`, `#deleted` (see `SHOWN_NAMES`) and `:now`. The unread index
 * needs only `LIVE_CONDITION`: a tombstone is never in it.
 */
export const SHOWN_CONDITION = `${LIVE_CONDITION} AND attribute_not_exists(#deleted)`;

/** The attribute names `SHOWN_CONDITION` uses. */
export const SHOWN_NAMES = {
  '#expiresAt': TABLE_KEYS.ttlAttribute,
  '#deleted': TOMBSTONE_MARKER,
} as const;

/** Whether a row read back is the owner's to see at `nowMs`: the twin of `SHOWN_CONDITION`. */
export function isShown(item: Record<string, unknown>, nowMs: number): boolean {
  return isLive(item, nowMs) && !isTombstone(item);
}

/** An entry of an index read back: the row's id and its flags (every index projects them). */
export interface IndexEntry {
  id: string;
  flags: Flags;
}

/** Extra conditions on an index read: a FilterExpression over projected attributes. */
export interface IndexFilter {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * One of the table's sparse indexes (see `functions/config/inbox-indexes.ts`): how many
 * rows of a partition it holds, and which, strongly consistent and skipping expired rows.
 */
export class SparseIndex {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly index: InboxIndexName,
  ) {}

  /** How many unexpired rows of the partition the index holds (that pass `filter`); 0 when none. */
  async count(pk: string, nowMs: number, filter?: IndexFilter): Promise<number> {
    let count = 0;
    let start: IndexKey | undefined;
    do {
      const page = await this.documentClient.send(
        new QueryCommand({
          ...this.query(pk, nowMs, filter),
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  }

  /** Entries (ids and flags) from `start` on, newest first, one page of at most `limit`. */
  async entries(
    pk: string,
    nowMs: number,
    options: { start?: IndexKey; limit?: number; filter?: IndexFilter } = {},
  ): Promise<{ entries: IndexEntry[]; next?: IndexKey }> {
    const query = this.query(pk, nowMs, options.filter);
    const { Items = [], LastEvaluatedKey } = await this.documentClient.send(
      new QueryCommand({
        ...query,
        ProjectionExpression: 'sk, #read, #seen, #archived, #interacted, #snoozedUntil',
        ExpressionAttributeNames: { ...query.ExpressionAttributeNames, ...FLAG_NAMES },
        ScanIndexForward: false,
        Limit: options.limit ?? INDEX_PAGE,
        ExclusiveStartKey: options.start,
      }),
    );
    const entries = Items.map((item) => ({
      id: String(item.sk).slice(NOTIFICATION_PREFIX.length),
      flags: flagsOf(item),
    }));
    return LastEvaluatedKey === undefined ? { entries } : { entries, next: LastEvaluatedKey };
  }

  private query(pk: string, nowMs: number, filter?: IndexFilter) {
    return {
      TableName: this.tableName,
      IndexName: INBOX_INDEXES[this.index].name,
      KeyConditionExpression: 'pk = :pk',
      // Every index projects `expiresAt` (and what filters read): nothing from the table.
      FilterExpression: filter ? `${LIVE_CONDITION} AND ${filter.expression}` : LIVE_CONDITION,
      ExpressionAttributeNames: {
        '#expiresAt': TABLE_KEYS.ttlAttribute,
        ...filter?.names,
      } as Record<string, string>,
      ExpressionAttributeValues: { ':pk': pk, ':now': epochSeconds(nowMs), ...filter?.values },
      ConsistentRead: true,
    };
  }
}

/** The flags every index projects, which a write after the read conditions on. */
const FLAG_NAMES = {
  '#read': 'read',
  '#seen': 'seen',
  '#archived': 'archived',
  '#interacted': 'interacted',
  '#snoozedUntil': 'snoozedUntil',
};
