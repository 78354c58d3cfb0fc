import { backoff } from './backoff';
import { ConnectionGoneError, RetryableError } from './errors';
import type { Limiter } from './limiter';
import type { ConnectionRef } from './model';
import type { Clock, Delivery } from './ports';

export interface RetryPolicy {
  /** Tries per connection within one invocation, the first included. */
  attempts: number;
  /** Half the ceiling of the first retry's wait; the ceiling doubles with each retry. */
  baseDelayMs: number;
  /** Largest ceiling of a wait. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 };

export interface DeliveryResult {
  delivered: ConnectionRef[];
  /** Connections API Gateway no longer knows (410): to be pruned. */
  gone: ConnectionRef[];
  /** Connections still failing after every retry: to be handed to a later invocation. */
  failed: ConnectionRef[];
}

export interface DeliverDeps {
  delivery: Delivery;
  /** Shared by the whole invocation: bounds posts in flight across records. */
  limiter: Limiter;
  clock: Clock;
  retry: RetryPolicy;
  random?: () => number;
}

/**
 * Posts one frame to each connection, at most `limiter`'s bound in flight. Throttling
 * and 5xx are retried with full-jitter exponential backoff, sleeping outside the
 * limiter so a waiting retry never holds a slot another connection could use.
 */
export async function deliverFrame(
  connections: readonly ConnectionRef[],
  frame: string,
  deps: DeliverDeps,
): Promise<DeliveryResult> {
  const result: DeliveryResult = { delivered: [], gone: [], failed: [] };
  const random = deps.random ?? Math.random;
  await Promise.all(
    connections.map(async (connection) => {
      for (let tried = 1; ; tried++) {
        try {
          await deps.limiter.run(() => deps.delivery.post(connection.connectionId, frame));
          result.delivered.push(connection);
          return;
        } catch (error) {
          if (error instanceof ConnectionGoneError) {
            result.gone.push(connection);
            return;
          }
          if (!(error instanceof RetryableError) || tried >= deps.retry.attempts) {
            result.failed.push(connection);
            return;
          }
          // The wait after try n is below base·2^n: backoff's ceiling for retry n + 1.
          await backoff(tried + 1, deps.retry, (ms) => deps.clock.sleep(ms), random);
        }
      }
    }),
  );
  return result;
}
