/**
 * How both sides of the inbox wait and try again when DynamoDB reports that another
 * write holds an item: a plain write running into a transaction, or a transaction
 * cancelled because what it read changed meanwhile.
 */
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type BackoffPolicy, backoff } from '#core/backoff';
import { systemClock } from '#core/ports';

/** Waits between attempts: 40 ms ceiling for the first retry, doubling, at most 500 ms. */
export const INBOX_BACKOFF: BackoffPolicy = { baseDelayMs: 40, maxDelayMs: 500 };
/** Attempts of one change (each re-reads what it found changed) before giving up. */
export const MAX_ATTEMPTS = 10;

export interface InboxRetryOptions {
  /** Waits between retries; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The inbox's backoff with its clock: also what its batch reads wait by (`BatchBackoff`). */
export class InboxRetry {
  readonly policy = INBOX_BACKOFF;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;

  constructor(options: InboxRetryOptions = {}) {
    this.sleep = options.sleep ?? systemClock.sleep;
    this.random = options.random ?? Math.random;
  }

  /** Waits before retry `attempt` (1 for the first). */
  wait(attempt: number): Promise<void> {
    return backoff(attempt, this.policy, this.sleep, this.random);
  }

  /** Runs a plain write, retrying it while it runs into a transaction holding the same item. */
  async onConflict<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof TransactionConflictException) || attempt >= MAX_ATTEMPTS) {
          throw error;
        }
        await this.wait(attempt);
      }
    }
  }
}
