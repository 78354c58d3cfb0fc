/**
 * `CollapseStore` over the notifications table: one item per recipient and collapse key,
 * `U#{tenant}#{user}` (or `T#{tenant}#{topic}`) / `COLLAPSE#{key}` (change events':
 * `COLLAPSE-LIVE#{key}`), beside the recipient's
 * notifications (whose queries only read `N#…`). Attributes:
 * - `windowId`, `windowEnds` (ms), `closing`: present while a window is open or closing
 * - `latest` (the envelope, as JSON), `latestAt` (its publish time), `latestId` (its
 *   notification id, which orders candidates)
 * - `lastWindowId`: the window that delivered `latest`, once settled
 * - `expiresAt`: TTL, so slots of keys no longer used go away
 * Every transition is one conditional UpdateItem; a refused one returns the old item
 * (`ReturnValuesOnConditionCheckFailure`), so deciding what to do next costs no read.
 */
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { parseEnvelope } from '#core/envelope';
import type {
  CollapseCandidate,
  CollapseOffer,
  CollapseSlot,
  CollapseSlotState,
  CollapseStore,
} from '#core/ports';
import { type ItemKey, recipientPartition } from './dynamo-keys';

export const COLLAPSE_PREFIX = 'COLLAPSE#';
/** Change events' slots (`channels: ["live"]`), apart from the notifications' of the same key. */
export const LIVE_COLLAPSE_PREFIX = 'COLLAPSE-LIVE#';

const NAMES = {
  '#windowId': 'windowId',
  '#windowEnds': 'windowEnds',
  '#closing': 'closing',
  '#latest': 'latest',
  '#latestAt': 'latestAt',
  '#latestId': 'latestId',
  '#lastWindowId': 'lastWindowId',
  '#expiresAt': 'expiresAt',
} as const;

type Names = keyof typeof NAMES;

/** Only the names an expression uses: DynamoDB refuses unused ones. */
function names(...used: Names[]): Record<string, string> {
  return Object.fromEntries(used.map((name) => [name, NAMES[name]]));
}

function latestValues(latest: CollapseCandidate): Record<string, unknown> {
  return {
    ':latest': JSON.stringify(latest.envelope),
    ':latestAt': latest.publishedAt,
    ':latestId': latest.id,
  };
}

export class DynamoCollapseStore implements CollapseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async offer(
    slot: CollapseSlot,
    candidate: CollapseCandidate,
    window: { now: number; windowEnds: number },
    expiresAt: number,
  ): Promise<CollapseOffer> {
    const key = slotKey(slot);
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          // Claim and join are one write: a window already there keeps its id and end.
          UpdateExpression:
            'SET #latest = :latest, #latestAt = :latestAt, #latestId = :latestId, #expiresAt = :expiresAt, ' +
            '#windowId = if_not_exists(#windowId, :latestId), #windowEnds = if_not_exists(#windowEnds, :windowEnds)',
          ConditionExpression:
            // No window, and nothing newer delivered: open one.
            '(attribute_not_exists(#windowEnds) AND (attribute_not_exists(#latestId) OR #latestId < :latestId)) OR ' +
            // A window still gathering, holding nothing newer: become its latest.
            '(#windowEnds > :now AND attribute_not_exists(#closing) AND #latestId < :latestId)',
          ExpressionAttributeNames: names(
            '#latest',
            '#latestAt',
            '#latestId',
            '#expiresAt',
            '#windowId',
            '#windowEnds',
            '#closing',
          ),
          ExpressionAttributeValues: {
            ...latestValues(candidate),
            ':expiresAt': expiresAt,
            ':windowEnds': window.windowEnds,
            ':now': window.now,
          },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const windowId = String(Attributes?.windowId);
      const windowEnds = Number(Attributes?.windowEnds);
      return windowId === candidate.id
        ? { kind: 'claimed', windowEnds }
        : { kind: 'joined', windowId, windowEnds };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = await this.oldItem(error.Item, key);
      // The condition only fails on an item that is there; gone since (TTL) means: try again.
      if (old === undefined) return this.offer(slot, candidate, window, expiresAt);
      return { kind: 'refused', slot: toState(old) };
    }
  }

  async adopt(
    slot: CollapseSlot,
    stale: { windowId: string; latestId: string },
    claim: { windowId: string; windowEnds: number; latest: CollapseCandidate },
    expiresAt: number,
  ): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        UpdateExpression:
          'SET #windowId = :windowId, #windowEnds = :windowEnds, #latest = :latest, #latestAt = :latestAt, ' +
          '#latestId = :latestId, #expiresAt = :expiresAt REMOVE #closing',
        ConditionExpression: '#windowId = :staleWindowId AND #latestId = :staleLatestId',
        ExpressionAttributeNames: names(
          '#windowId',
          '#windowEnds',
          '#latest',
          '#latestAt',
          '#latestId',
          '#expiresAt',
          '#closing',
        ),
        ExpressionAttributeValues: {
          ...latestValues(claim.latest),
          ':windowId': claim.windowId,
          ':windowEnds': claim.windowEnds,
          ':expiresAt': expiresAt,
          ':staleWindowId': stale.windowId,
          ':staleLatestId': stale.latestId,
        },
      }),
    );
  }

  async close(slot: CollapseSlot, windowId: string): Promise<CollapseCandidate | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: slotKey(slot),
          UpdateExpression: 'SET #closing = :true',
          ConditionExpression: '#windowId = :windowId',
          ExpressionAttributeNames: names('#closing', '#windowId'),
          ExpressionAttributeValues: { ':true': true, ':windowId': windowId },
          // The write that stops the window also reads what it gathered: nothing in between.
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes === undefined ? undefined : latestOf(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async settle(
    slot: CollapseSlot,
    windowId: string,
    delivered: CollapseCandidate,
    expiresAt: number,
  ): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        UpdateExpression:
          'SET #latest = :latest, #latestAt = :latestAt, #latestId = :latestId, #lastWindowId = :windowId, ' +
          '#expiresAt = :expiresAt REMOVE #windowId, #windowEnds, #closing',
        ConditionExpression: '#windowId = :windowId',
        ExpressionAttributeNames: names(
          '#latest',
          '#latestAt',
          '#latestId',
          '#lastWindowId',
          '#expiresAt',
          '#windowId',
          '#windowEnds',
          '#closing',
        ),
        ExpressionAttributeValues: {
          ...latestValues(delivered),
          ':windowId': windowId,
          ':expiresAt': expiresAt,
        },
      }),
    );
  }

  /** The slot as stored, for tests and operators; undefined when there is none. */
  async read(slot: CollapseSlot): Promise<CollapseSlotState | undefined> {
    const item = await this.readItem(slotKey(slot));
    return item && toState(item);
  }

  private async conditionally(command: UpdateCommand): Promise<boolean> {
    try {
      await this.doc.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The item a refused write found: returned with the refusal, or read when it was not. */
  private async oldItem(
    returned: Record<string, AttributeValue> | undefined,
    key: ItemKey,
  ): Promise<Record<string, unknown> | undefined> {
    // The document client leaves the exception's item marshalled (aws-sdk-js-v3#6723).
    return returned !== undefined ? unmarshall(returned) : this.readItem(key);
  }

  private async readItem(key: ItemKey): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}

function slotKey(slot: CollapseSlot): ItemKey {
  const prefix = slot.live === true ? LIVE_COLLAPSE_PREFIX : COLLAPSE_PREFIX;
  return { pk: recipientPartition(slot.recipient), sk: `${prefix}${slot.collapseKey}` };
}

function toState(item: Record<string, unknown>): CollapseSlotState {
  const latest = latestOf(item);
  if (typeof item.windowId === 'string') {
    return {
      kind: 'open',
      windowId: item.windowId,
      windowEnds: Number(item.windowEnds),
      closing: item.closing === true,
      latest,
    };
  }
  return { kind: 'settled', lastWindowId: String(item.lastWindowId ?? ''), latest };
}

/** The latest envelope a slot holds; validated again, as anything read back from storage. */
function latestOf(item: Record<string, unknown>): CollapseCandidate {
  if (typeof item.latest !== 'string' || typeof item.latestId !== 'string') {
    throw new Error('collapse slot holds no latest envelope');
  }
  return {
    id: item.latestId,
    envelope: parseEnvelope(JSON.parse(item.latest)),
    publishedAt: Number(item.latestAt),
  };
}
