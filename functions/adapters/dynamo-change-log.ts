/**
 * `ChangeLog` over the notifications table: one item per recipient, `U#{tenant}#{user}`
 * (or `T#{tenant}#{topic}`) / `CHANGES`, beside the recipient's notifications (whose queries
 * only read `N#…`). `kinds` maps each kind to its last change `{id, type, at, recordedAt}`;
 * `expiresAt` is the TTL, moved on by every write.
 *
 * A note is one conditional UpdateItem of the kind's entry (refused when the entry holds a
 * newer id); the first note of a recipient creates the map instead. When the map then holds
 * more kinds than it may keep, the least recently recorded ones are removed, each only if
 * unchanged since: a kind noted meanwhile stays, and the next note prunes again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ChangeLog, RecordedChange } from '#core/changes';
import type { Recipient } from '#core/model';
import { type ItemKey, recipientPartition } from './dynamo-keys';

export const CHANGES_SK = 'CHANGES';

/** Tries of a note racing the first note of the same recipient (which creates the map). */
const MAX_TRIES = 3;

type Entry = Omit<RecordedChange, 'kind'>;

export class DynamoChangeLog implements ChangeLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async note(
    recipient: Recipient,
    change: RecordedChange,
    options: { expiresAt: number; keep: number },
  ): Promise<void> {
    const key = changesKey(recipient);
    const { kind, ...entry } = change;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const outcome = await this.setEntry(key, kind, entry, options.expiresAt);
      if (outcome.kind === 'stale') return;
      if (outcome.kind === 'written') {
        await this.prune(key, outcome.kinds, options.keep);
        return;
      }
      if (await this.create(key, kind, entry, options.expiresAt)) return;
    }
    throw new Error('change record kept changing while it was created');
  }

  async last(recipient: Recipient): Promise<RecordedChange[]> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: changesKey(recipient),
        ConsistentRead: true,
        ProjectionExpression: 'kinds',
      }),
    );
    return entriesOf(Item?.kinds);
  }

  /** Sets the kind's entry in an existing map unless it holds a newer one. */
  private async setEntry(
    key: ItemKey,
    kind: string,
    entry: Entry,
    expiresAt: number,
  ): Promise<
    { kind: 'written'; kinds: RecordedChange[] } | { kind: 'stale' } | { kind: 'no-map' }
  > {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #kinds.#kind = :entry, #expiresAt = :expiresAt',
          ConditionExpression:
            'attribute_exists(#kinds) AND (attribute_not_exists(#kinds.#kind) OR #kinds.#kind.#id < :id)',
          ExpressionAttributeNames: {
            '#kinds': 'kinds',
            '#kind': kind,
            '#id': 'id',
            '#expiresAt': 'expiresAt',
          },
          ExpressionAttributeValues: { ':entry': entry, ':id': entry.id, ':expiresAt': expiresAt },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'written', kinds: entriesOf(Attributes?.kinds) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client leaves the exception's item marshalled (aws-sdk-js-v3#6723).
      const old = error.Item === undefined ? undefined : unmarshall(error.Item);
      return old?.kinds === undefined ? { kind: 'no-map' } : { kind: 'stale' };
    }
  }

  /** Creates the map with this one kind; false when another note created it first. */
  private async create(
    key: ItemKey,
    kind: string,
    entry: Entry,
    expiresAt: number,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #kinds = :kinds, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#kinds)',
          ExpressionAttributeNames: { '#kinds': 'kinds', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':kinds': { [kind]: entry }, ':expiresAt': expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Removes the least recently recorded kinds past `keep`, each only if unchanged. */
  private async prune(key: ItemKey, kinds: RecordedChange[], keep: number): Promise<void> {
    if (kinds.length <= keep) return;
    const oldest = [...kinds]
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : 1))
      .slice(0, kinds.length - keep);
    const names: Record<string, string> = { '#kinds': 'kinds', '#id': 'id' };
    const values: Record<string, string> = {};
    const removed: string[] = [];
    const unchanged: string[] = [];
    oldest.forEach((change, n) => {
      names[`#k${n}`] = change.kind;
      values[`:id${n}`] = change.id;
      removed.push(`#kinds.#k${n}`);
      unchanged.push(`#kinds.#k${n}.#id = :id${n}`);
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `REMOVE ${removed.join(', ')}`,
          ConditionExpression: unchanged.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // A kind among them was noted meanwhile: the next note prunes again.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

function changesKey(recipient: Recipient): ItemKey {
  return { pk: recipientPartition(recipient), sk: CHANGES_SK };
}

/** The map's entries, checked again as anything read back from storage. */
function entriesOf(kinds: unknown): RecordedChange[] {
  if (typeof kinds !== 'object' || kinds === null) return [];
  const entries: RecordedChange[] = [];
  for (const [kind, value] of Object.entries(kinds as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const { id, type, at, recordedAt } = value as Record<string, unknown>;
    if (typeof id !== 'string' || typeof type !== 'string' || typeof at !== 'string') continue;
    entries.push({ kind, id, type, at, recordedAt: Number(recordedAt) || 0 });
  }
  return entries;
}
