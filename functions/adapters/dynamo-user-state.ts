import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { RetryableError } from '#core/errors';
import type { StateApplied, StateMarker, UserStateStore } from '#core/ports';
import type { AppState } from '#core/user-state';
import { type ItemKey, stateMarkerKey, userStateKey } from './dynamo-keys';

/** Writes tried per change before it is handed back as retryable (contention on one user). */
export const STATE_WRITE_ATTEMPTS = 40;
const MAX_BACKOFF_MS = 250;

/**
 * A user's state hash as one item (`U#<tenant>#<user>` / `STATE`): the app keys in the map
 * `appState`, and `version`, which every write moves by one. A change is a transaction of
 * two conditional Puts: its marker (`SA#<id>`, absent or expired: the change has not applied)
 * and the hash computed from the version it read (unchanged since: nobody wrote between).
 * So a change applies once per id, durably, and concurrent increments serialise instead of
 * racing; the limits (key count, bytes, `incr` on a number only) hold for the hash as
 * written, which an `ADD` could not check. A writer that loses the race reads again and
 * retries with jittered backoff.
 */
export class DynamoUserStateStore implements UserStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly random: () => number = Math.random,
  ) {}

  async read(tenant: string, userId: string): Promise<AppState> {
    return (await this.get(userStateKey(tenant, userId)))?.appState ?? {};
  }

  async apply(
    tenant: string,
    userId: string,
    marker: StateMarker,
    next: (current: AppState) => AppState,
  ): Promise<StateApplied> {
    const stateKey = userStateKey(tenant, userId);
    const markerKey = stateMarkerKey(tenant, userId, marker.id);
    const nowSeconds = Math.floor(marker.now / 1000);
    for (let attempt = 1; ; attempt++) {
      const [found, item] = await Promise.all([this.get(markerKey), this.get(stateKey)]);
      const current: AppState = item?.appState ?? {};
      if (found !== undefined && Number(found.expiresAt) > nowSeconds) {
        return { applied: false, state: current };
      }
      const version = Number(item?.version ?? 0);
      const state = next(current);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...markerKey, expiresAt: marker.expiresAt },
                  ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
                  ExpressionAttributeValues: { ':now': nowSeconds },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...stateKey, appState: state, version: version + 1 },
                  ...(version === 0
                    ? { ConditionExpression: 'attribute_not_exists(pk)' }
                    : {
                        ConditionExpression: '#version = :version',
                        ExpressionAttributeNames: { '#version': 'version' },
                        ExpressionAttributeValues: { ':version': version },
                      }),
                },
              },
            ],
          }),
        );
        return { applied: true, state };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // A marker now there: the next read returns it. A moved version or a conflicting
        // transaction: read again and recompute.
        if (attempt >= STATE_WRITE_ATTEMPTS) {
          throw new RetryableError('state changed concurrently too often: try again', {
            cause: error,
          });
        }
        const ceiling = Math.min(MAX_BACKOFF_MS, 5 * 2 ** Math.min(attempt, 8));
        await sleep(Math.floor(this.random() * ceiling));
      }
    }
  }

  private async get(key: ItemKey) {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item as { appState?: AppState; version?: number; expiresAt?: number } | undefined;
  }
}
