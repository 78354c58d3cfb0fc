/**
 * The user's STATE item (`U#{tenant}#{userId}` / `STATE`): their unread count, and the
 * ids of their recent notifications (`e_<tag>: <publish time>`), and every write that moves
 * the count. It keeps the count equal to the user's unread notifications:
 *
 * Storing is the hot path and costs two plain writes, no transaction: the conditional Put
 * of the notification, then one conditional update of this item that records the
 * notification's id among the user's recent ones and adds 1 to the count (`claim`). A
 * re-publish has its first notification's id (the event ledger's doing), so the Put
 * recognises it; the claim recognises a redelivery of a recent notification the user has
 * deleted since, and the item put for it is taken back. Every read-state change (user
 * actions, rare) flips flags and moves the count in ONE transaction whose conditions name
 * the flag values it read (`commit`), so a concurrent duplicate changes nothing and a
 * cancelled attempt is re-read and retried. A decrement also requires `unread >= n`:
 * between a store's Put and its count the item is visible but not yet counted, and marking
 * it read then would dip below zero. That guard waits the gap out; only if it never closes
 * (a store that died between its two writes) is the count clamped at zero instead, which
 * is then the exact value again.
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { RetryableError } from '#core/errors';
import { type InboxRetry, tooBusy } from './dynamo-inbox-retry';
import { type ItemKey, STATE_SK } from './dynamo-keys';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Attempts during which a decrement waits for a store's pending `ADD` (a few hundred ms in
 * all) before it clamps the count at zero.
 */
const GUARD_ATTEMPTS = 6;

/** Why a transaction attempt did not commit. */
type Outcome = 'committed' | 'changed' | 'guard';

/** A user's notification recorded on their STATE item: `<tag>: <publish time>`. */
export interface RecentEvent {
  tag: string;
  publishedAt: number;
}

/** What claiming a notification found: it was new (and is now counted), or known already. */
export type Claim = { kind: 'claimed'; recent: RecentEvent[] } | { kind: 'known' };

export class UnreadCounter {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retry: InboxRetry,
  ) {}

  /** The user's unread count; 0 before anything was stored for them. */
  async read(pk: string): Promise<number> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk, sk: STATE_SK },
        ProjectionExpression: '#unread',
        ExpressionAttributeNames: { '#unread': 'unread' },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.unread === 'number' ? Item.unread : 0;
  }

  /**
   * Records the notification among the user's recent ones and adds `count` (1 for an unread
   * notification) to the count, in one conditional update: a known one (stored before, and
   * deleted since) fails it, at no request of its own.
   */
  async claim(pk: string, id: string, publishedAt: number, count: number): Promise<Claim> {
    const tag = eventTag(id);
    try {
      // It must land, or the item stays uncounted: a read-state transaction holding the
      // counter makes it fail with TransactionConflict, which the SDK does not retry.
      const { Attributes } = await this.retry.onConflict(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk, sk: STATE_SK },
            UpdateExpression: 'SET #event = :at ADD #unread :count',
            ConditionExpression: 'attribute_not_exists(#event)',
            ExpressionAttributeNames: { '#event': tag, '#unread': 'unread' },
            ExpressionAttributeValues: { ':at': publishedAt, ':count': count },
            // Returned values cost no read units.
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { kind: 'claimed', recent: recentEvents(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { kind: 'known' };
      throw error;
    }
  }

  /** Forgets these recent notifications, so the STATE item stays one write unit. */
  async forget(pk: string, tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    const names = Object.fromEntries(tags.map((tag, i) => [`#e${i}`, tag]));
    await this.retry.onConflict(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: STATE_SK },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
        }),
      ),
    );
  }

  /**
   * Commits `changes` (each turning one notification unread, or read or away) with the
   * count moved by `delta` in the same transaction. A decrement waits while the count is
   * short of it (a store's `ADD` on its way), then clamps (see the file comment).
   * 'changed' means a notification's flag was not what the caller read: re-read, retry.
   */
  async commit(
    pk: string,
    changes: TransactItem[],
    delta: number,
  ): Promise<'committed' | 'changed'> {
    if (delta < 0) return this.decrement(pk, changes, -delta);
    const outcome = await this.transact([...changes, { Update: this.counterUpdate(pk, delta) }]);
    // An increment has no condition on the counter, so it is never the counter that refused.
    return outcome === 'committed' ? 'committed' : 'changed';
  }

  /**
   * Deletes a notification whose going moves no count, if its `read` flag is `read`: one
   * that is read, or (`read` false) one its store put but never counted. Whether it did.
   */
  async deleteUncounted(key: ItemKey, read: boolean): Promise<boolean> {
    try {
      await this.retry.onConflict(() =>
        this.documentClient.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ConditionExpression: '#read = :read',
            ExpressionAttributeNames: { '#read': 'read' },
            ExpressionAttributeValues: { ':read': read },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Commits `items` (each turning one unread notification read or away) with the counter
   * moved down by `n`. While the counter is short of that, a store's `ADD` is still on
   * its way: wait for it. If it never comes, clamp at zero.
   */
  private async decrement(
    pk: string,
    items: TransactItem[],
    n: number,
  ): Promise<'committed' | 'changed'> {
    for (let attempt = 1; attempt <= 3 * GUARD_ATTEMPTS; attempt++) {
      // Guard first; then clamp; should the clamp find the counter grown after all, guard again.
      const guarded = attempt % (GUARD_ATTEMPTS + 1) !== 0;
      const counter = guarded ? this.counterUpdate(pk, -n) : this.counterClamp(pk, n);
      const outcome = await this.transact([...items, { Update: counter }]);
      if (outcome !== 'guard') return outcome;
      if (guarded) await this.retry.wait(attempt % (GUARD_ATTEMPTS + 1));
    }
    throw tooBusy();
  }

  /** Runs one transaction; its last action is the counter's, all others notifications'. */
  private async transact(items: TransactItem[]): Promise<Outcome> {
    try {
      await this.documentClient.send(new TransactWriteCommand({ TransactItems: items }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const codes = reasons.map((reason) => reason.Code ?? 'None');
      const failed = (code: string | undefined) => code !== undefined && code !== 'None';
      const counterOnly =
        codes.at(-1) === 'ConditionalCheckFailed' && !codes.slice(0, -1).some(failed);
      if (counterOnly && codes.length === items.length) return 'guard';
      const retryable = new Set(['ConditionalCheckFailed', 'TransactionConflict']);
      const other = codes.find((code) => failed(code) && !retryable.has(code));
      if (other !== undefined) {
        // Throttling and the like: surfaced to the caller, not spun on here.
        throw new RetryableError(`inbox transaction cancelled: ${other}`, { cause: error });
      }
      return 'changed';
    }
  }

  private counterUpdate(pk: string, delta: number): NonNullable<TransactItem['Update']> {
    return {
      TableName: this.tableName,
      Key: { pk, sk: STATE_SK },
      UpdateExpression: 'ADD #unread :delta',
      ...(delta < 0 ? { ConditionExpression: '#unread >= :needed' } : {}),
      ExpressionAttributeNames: { '#unread': 'unread' },
      ExpressionAttributeValues: {
        ':delta': delta,
        ...(delta < 0 ? { ':needed': -delta } : {}),
      },
    };
  }

  /** The counter set to zero, for when it is short of `n` for good. */
  private counterClamp(pk: string, n: number): NonNullable<TransactItem['Update']> {
    return {
      TableName: this.tableName,
      Key: { pk, sk: STATE_SK },
      UpdateExpression: 'SET #unread = :zero',
      ConditionExpression: 'attribute_not_exists(#unread) OR #unread < :needed',
      ExpressionAttributeNames: { '#unread': 'unread' },
      ExpressionAttributeValues: { ':zero': 0, ':needed': n },
    };
  }
}

const EVENT_TAG_PREFIX = 'e_';

/**
 * The attribute naming a notification id on the user's STATE item: 60 bits of its SHA-256,
 * short so that dozens fit in the item's first write unit with the count.
 */
export function eventTag(id: string): string {
  return EVENT_TAG_PREFIX + createHash('sha256').update(id).digest('base64url').slice(0, 10);
}

function recentEvents(item: Record<string, unknown>): RecentEvent[] {
  return Object.entries(item).flatMap(([name, value]) =>
    name.startsWith(EVENT_TAG_PREFIX) && typeof value === 'number'
      ? [{ tag: name, publishedAt: value }]
      : [],
  );
}
