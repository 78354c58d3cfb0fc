/**
 * `ChangeLog` over the notifications table: one item per recipient, `U#{tenant}#{user}`
 * (or `T#{tenant}#{topic}`) / `CHANGES`, beside the recipient's notifications (whose queries
 * only read `N#…`). Each kind is an attribute of its own, `~{kind}` (the prefix keeps kinds
 * apart from `pk`, `sk` and `expiresAt`), holding the kind's last change
 * `{id, type, at, recordedAt}`; `expiresAt` is the TTL, moved on by every write.
 *
 * A note is one conditional UpdateItem of the kind's attribute, the item's first included
 * (refused, and done, when the attribute holds a newer id). When the item then holds more
 * kinds than it may keep, the least recently recorded ones are removed, each only if
 * unchanged since: a kind noted meanwhile stays, and the next note prunes again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChangeLog, RecordedChange } from '#core/changes';
import type { Recipient } from '#core/model';
import { type ItemKey, recipientPartition } from './dynamo-keys';

export const CHANGES_SK = 'CHANGES';
/** What a kind's attribute name starts with. */
export const KIND_PREFIX = '~';

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
    let item: Record<string, unknown> | undefined;
    try {
      ({ Attributes: item } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #kind = :entry, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#kind) OR #kind.#id < :id',
          ExpressionAttributeNames: {
            '#kind': `${KIND_PREFIX}${kind}`,
            '#id': 'id',
            '#expiresAt': 'expiresAt',
          },
          ExpressionAttributeValues: {
            ':entry': entry,
            ':id': entry.id,
            ':expiresAt': options.expiresAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      // The kind's last change is newer already.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
    await this.prune(key, entriesOf(item), options.keep);
  }

  async last(recipient: Recipient): Promise<RecordedChange[]> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: changesKey(recipient),
        ConsistentRead: true,
      }),
    );
    return entriesOf(Item);
  }

  /** Removes the least recently recorded kinds past `keep`, each only if unchanged. */
  private async prune(key: ItemKey, kinds: RecordedChange[], keep: number): Promise<void> {
    if (kinds.length <= keep) return;
    const oldest = [...kinds]
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : 1))
      .slice(0, kinds.length - keep);
    const names: Record<string, string> = { '#id': 'id' };
    const values: Record<string, string> = {};
    const removed: string[] = [];
    const unchanged: string[] = [];
    oldest.forEach((change, n) => {
      names[`#k${n}`] = `${KIND_PREFIX}${change.kind}`;
      values[`:id${n}`] = change.id;
      removed.push(`#k${n}`);
      unchanged.push(`#k${n}.#id = :id${n}`);
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

/** The item's kinds, checked again as anything read back from storage. */
function entriesOf(item: Record<string, unknown> | undefined): RecordedChange[] {
  if (item === undefined) return [];
  const entries: RecordedChange[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(KIND_PREFIX) || typeof value !== 'object' || value === null) continue;
    const { id, type, at, recordedAt } = value as Record<string, unknown>;
    if (typeof id !== 'string' || typeof type !== 'string' || typeof at !== 'string') continue;
    const kind = name.slice(KIND_PREFIX.length);
    entries.push({ kind, id, type, at, recordedAt: Number(recordedAt) || 0 });
  }
  return entries;
}
