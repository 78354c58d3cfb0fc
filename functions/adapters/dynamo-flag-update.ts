/**
 * How a row's flags change: one conditional UpdateItem that writes the new flags and the
 * index keys derived from ALL of them (`indexKeysOf`), on the condition that the row's
 * flags are still the ones the keys were derived from. So a row's index keys always agree
 * with its flags, whatever ran at the same time: a write that lost a race fails its
 * condition, gets the row back (ReturnValuesOnConditionCheckFailure) and is derived again
 * from what is there.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { INBOX_INDEX_LIST } from '#config/inbox-indexes';
import { RetryableError } from '#core/errors';
import { type Flags, flagsOf, indexKeysOf, sameFlags } from './dynamo-inbox-flags';
import { type InboxRetry, MAX_ATTEMPTS } from './dynamo-inbox-retry';
import { epochSeconds, notificationSortKey } from './dynamo-keys';
import { isShown, SHOWN_CONDITION, SHOWN_NAMES } from './dynamo-unread-index';

const FLAG_NAMES = ['read', 'seen', 'archived', 'interacted'] as const;
const SNOOZED = 'snoozedUntil';

/** What a change makes of a row's flags; undefined (or the same flags) when it has nothing to do. */
export type Transition = (flags: Flags) => Flags | undefined;

/** What applying a transition to one row found: with the flags before and after a flip. */
export type FlagOutcome =
  | { outcome: 'flipped'; before: Flags; after: Flags }
  | { outcome: 'unchanged' | 'missing' };

/**
 * Applies transitions to rows of one table. `known` flags (from an index entry, which
 * projects them) save the read; a row that changed since is read back from the failed
 * write's ALL_OLD and derived again, so the outcome is always that of the row as it was.
 */
export class FlagWriter {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retry: InboxRetry,
    private readonly now: () => number,
  ) {}

  async apply(pk: string, id: string, transition: Transition, known?: Flags): Promise<FlagOutcome> {
    const sk = notificationSortKey(id);
    let before = known ?? (await this.read(pk, sk));
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (before === undefined) return { outcome: 'missing' };
      const after = transition(before);
      if (after === undefined || sameFlags(before, after)) return { outcome: 'unchanged' };
      try {
        const update = flagUpdate(before, after, sk, epochSeconds(this.now()));
        await this.retry.onConflict(() =>
          this.documentClient.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk, sk },
              ...update,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return { outcome: 'flipped', before, after };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The document client leaves the exception's item marshalled.
        const old = error.Item ? unmarshall(error.Item) : undefined;
        before = old === undefined || !isShown(old, this.now()) ? undefined : flagsOf(old);
      }
    }
    throw new RetryableError('the notification kept changing; try again');
  }

  /** The row's flags, strongly consistent; undefined when it is not its owner's to see. */
  private async read(pk: string, sk: string): Promise<Flags | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk, sk },
        ConsistentRead: true,
        ProjectionExpression:
          '#read, #seen, #archived, #interacted, #snoozedUntil, #expiresAt, #deleted',
        ExpressionAttributeNames: {
          '#read': 'read',
          '#seen': 'seen',
          '#archived': 'archived',
          '#interacted': 'interacted',
          '#snoozedUntil': SNOOZED,
          ...SHOWN_NAMES,
        },
      }),
    );
    return Item === undefined || !isShown(Item, this.now()) ? undefined : flagsOf(Item);
  }
}

/** The parts of an UpdateItem that moves a row from `before` to `after` (the document client's). */
export interface FlagUpdate {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The update that moves a row from `before` to `after`: sets the flags and every index key
 * `after` implies, removes the others, on the condition that the row is there, is its
 * owner's (alive, no tombstone) and its flags are `before`. A flag absent from the row
 * (never written) reads as false, so the condition accepts that too.
 */
export function flagUpdate(
  before: Flags,
  after: Flags,
  sk: string,
  nowSeconds: number,
): FlagUpdate {
  const names: Record<string, string> = { ...SHOWN_NAMES };
  const values: Record<string, unknown> = { ':now': nowSeconds, ':true': true, ':false': false };
  const conditions = ['attribute_exists(pk)', SHOWN_CONDITION];
  const sets: string[] = [];
  const removes: string[] = [];
  for (const flag of FLAG_NAMES) {
    names[`#${flag}`] = flag;
    conditions.push(
      before[flag] ? `#${flag} = :true` : `(attribute_not_exists(#${flag}) OR #${flag} = :false)`,
    );
    sets.push(`#${flag} = ${after[flag] ? ':true' : ':false'}`);
  }
  names['#snoozedUntil'] = SNOOZED;
  if (before.snoozedUntil === undefined) conditions.push('attribute_not_exists(#snoozedUntil)');
  else {
    values[':snoozedBefore'] = before.snoozedUntil;
    conditions.push('#snoozedUntil = :snoozedBefore');
  }
  if (after.snoozedUntil === undefined) removes.push('#snoozedUntil');
  else {
    values[':snoozedAfter'] = after.snoozedUntil;
    sets.push('#snoozedUntil = :snoozedAfter');
  }
  const keys = indexKeysOf(after, sk);
  values[':sk'] = sk;
  INBOX_INDEX_LIST.forEach((index, i) => {
    names[`#k${i}`] = index.sortKey;
    if (keys[index.sortKey] !== undefined) sets.push(`#k${i} = :sk`);
    else removes.push(`#k${i}`);
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
