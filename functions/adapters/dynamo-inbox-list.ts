/**
 * Pages of a user's notifications (or a topic's history), newest first, read Query-only.
 *
 * A user's list reads one of the table's sparse indexes (`#config/inbox-indexes`), chosen
 * by what is asked: the default list the `visible` index (no archived or snoozed row is
 * ever read), unread-only the `unread` index. The index is read for ids only (its entries
 * are small: a read unit covers dozens), with any further condition as a FilterExpression
 * over what it projects; then only the rows returned are fetched, in one consistent
 * BatchGetItem. So a selective filter costs index entries, not rows, and every request has
 * a budget: `MAX_LIST_ROUNDS` Queries of at most `SCAN_PAGE` entries, after which a page
 * answers short with a cursor rather than read on through the partition.
 *
 * The cursor is the row key of the last entry read (`{pk, sk}`): every index's sort key is
 * the row's own `sk`, so it resumes any of them, and inserts (newer ids, ahead of it)
 * never shift a later page: a listing neither skips nor repeats.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { INBOX_INDEXES, type InboxIndexName } from '#config/inbox-indexes';
import { TABLE_KEYS } from '#config/topology';
import type { Notification, Page, Recipient } from '#core/model';
import type { InboxQuery } from '#core/ports';
import { batchGetAll } from './dynamo-batch';
import type { InboxRetry } from './dynamo-inbox-retry';
import {
  decodeCursor,
  encodeCursor,
  epochSeconds,
  type ItemKey,
  NOTIFICATION_PREFIX,
  recipientPartition,
} from './dynamo-keys';
import { fromItem, NOTIFICATION_ATTRIBUTES, TOMBSTONE_MARKER } from './dynamo-notification-items';
import {
  type IndexFilter,
  isShown,
  LIVE_CONDITION,
  SHOWN_CONDITION,
  SHOWN_NAMES,
} from './dynamo-unread-index';

/** Entries a filtered Query evaluates per request (the filter runs after the read). */
export const SCAN_PAGE = 200;
/** Queries one page may cost before it answers short, with a cursor. */
export const MAX_LIST_ROUNDS = 5;
/** Requests one BatchGetItem group may take while DynamoDB leaves keys unprocessed. */
const FETCH_ATTEMPTS = 8;

/** Where a list reads: a sparse index (a user's) or the partition itself (a topic's), and what it filters. */
export interface ListPlan {
  index?: InboxIndexName;
  filter?: IndexFilter;
}

/** Every attribute a notification is mapped back from, and what tells a row is shown. */
const FETCHED = [...NOTIFICATION_ATTRIBUTES, TABLE_KEYS.ttlAttribute, TOMBSTONE_MARKER, 'pk', 'sk'];
const FETCH_NAMES = Object.fromEntries(FETCHED.map((name, i) => [`#f${i}`, name]));
const FETCH_PROJECTION = Object.keys(FETCH_NAMES).join(', ');

export class InboxLister {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retry: InboxRetry,
    private readonly now: () => number,
  ) {}

  /** One page: a user's read through `plan`'s index; a topic's history from its partition. */
  async list(recipient: Recipient, query: InboxQuery, plan: ListPlan): Promise<Page<Notification>> {
    const pk = recipientPartition(recipient);
    let start = decodeCursor(query.cursor, { pk, skPrefix: NOTIFICATION_PREFIX });
    const keys: string[] = [];
    // A topic's history is read whole from its partition: nothing to fetch after.
    const rows = new Map<string, Record<string, unknown>>();
    let lastRead: string | undefined;
    let more = false;
    const selective = plan.filter !== undefined;
    for (let round = 0; round < MAX_LIST_ROUNDS; round++) {
      const room = query.limit - keys.length;
      const page = await this.documentClient.send(
        new QueryCommand({
          ...this.target(pk, plan),
          ...(plan.index === undefined ? {} : { ProjectionExpression: 'sk' }),
          ScanIndexForward: false,
          Limit: selective ? Math.max(SCAN_PAGE, query.limit) : room,
          ExclusiveStartKey: start && this.startKey(start, plan),
        }),
      );
      const found = (page.Items ?? []).map((item) => {
        if (plan.index === undefined) rows.set(String(item.sk), item);
        return String(item.sk);
      });
      keys.push(...found.slice(0, room));
      const evaluated = page.LastEvaluatedKey as ItemKey | undefined;
      // Stopped inside what this page found: resume after the last one taken.
      if (found.length > room) {
        lastRead = keys.at(-1);
        more = true;
        break;
      }
      lastRead = evaluated ? String(evaluated.sk) : keys.at(-1);
      more = evaluated !== undefined;
      start = evaluated && { pk, sk: String(evaluated.sk) };
      if (keys.length >= query.limit || !more) break;
    }
    const items =
      plan.index === undefined
        ? keys.flatMap((sk) => {
            const row = rows.get(sk);
            return row === undefined ? [] : [fromItem(row)];
          })
        : await this.fetch(pk, keys);
    const cursor = more && lastRead ? encodeCursor({ pk, sk: lastRead }) : undefined;
    return cursor === undefined ? { items } : { items, cursor };
  }

  /** The rows behind these keys, in this order; one gone meanwhile is left out. */
  private async fetch(pk: string, sortKeys: string[]): Promise<Notification[]> {
    if (sortKeys.length === 0) return [];
    const rows = await batchGetAll(
      this.documentClient,
      this.tableName,
      sortKeys.map((sk) => ({ pk, sk })),
      {
        projection: FETCH_PROJECTION,
        names: FETCH_NAMES,
        consistentRead: true,
        attempts: FETCH_ATTEMPTS,
        backoff: this.retry,
        what: 'notifications',
      },
    );
    const bySortKey = new Map(rows.map((row) => [String(row.sk), row]));
    const nowMs = this.now();
    return sortKeys.flatMap((sk) => {
      const row = bySortKey.get(sk);
      return row !== undefined && isShown(row, nowMs) ? [fromItem(row)] : [];
    });
  }

  private target(pk: string, plan: ListPlan) {
    const names: Record<string, string> = {
      ...(plan.index === undefined ? SHOWN_NAMES : { '#expiresAt': TABLE_KEYS.ttlAttribute }),
      ...plan.filter?.names,
    };
    const values: Record<string, unknown> = {
      ':pk': pk,
      ':now': epochSeconds(this.now()),
      ...plan.filter?.values,
    };
    if (plan.index === undefined) {
      values[':prefix'] = NOTIFICATION_PREFIX;
      return {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: and(SHOWN_CONDITION, plan.filter?.expression),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ConsistentRead: true,
      };
    }
    // No tombstone is in an index (it has no index key): only expiry to check.
    return {
      TableName: this.tableName,
      IndexName: INBOX_INDEXES[plan.index].name,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: and(LIVE_CONDITION, plan.filter?.expression),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
    };
  }

  /** An index's start key: its own sort key is the row's `sk`. */
  private startKey(key: ItemKey, plan: ListPlan): Record<string, unknown> {
    return plan.index === undefined
      ? { ...key }
      : { ...key, [INBOX_INDEXES[plan.index].sortKey]: key.sk };
  }
}

function and(first: string, second: string | undefined): string {
  return second === undefined ? first : `${first} AND ${second}`;
}
