import { ThrottlingException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { INBOX_BACKOFF, InboxRetry, MAX_ATTEMPTS } from '#adapters/dynamo-inbox-retry';
import { backoffDelay } from '#core/backoff';

const conflict = () => new TransactionConflictException({ message: 'conflict', $metadata: {} });

function retryRecording(): { retry: InboxRetry; waits: number[] } {
  const waits: number[] = [];
  const retry = new InboxRetry({
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
  });
  return { retry, waits };
}

describe('InboxRetry', () => {
  it('waits by the one backoff, with the inbox policy', async () => {
    const { retry, waits } = retryRecording();

    for (const attempt of [1, 2, 3, 10]) await retry.wait(attempt);

    expect(waits).toEqual([1, 2, 3, 10].map((n) => backoffDelay(n, INBOX_BACKOFF, () => 0.5)));
    expect(waits).toEqual([20, 40, 80, 250]);
  });

  it('retries a write that ran into a transaction, until it lands', async () => {
    const { retry, waits } = retryRecording();
    let calls = 0;

    const result = await retry.onConflict(async () => {
      calls++;
      if (calls < 3) throw conflict();
      return 'written';
    });

    expect(result).toBe('written');
    expect(waits).toHaveLength(2);
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts, and at once on any other error`, async () => {
    const { retry } = retryRecording();
    let calls = 0;
    await expect(
      retry.onConflict(async () => {
        calls++;
        throw conflict();
      }),
    ).rejects.toBeInstanceOf(TransactionConflictException);
    expect(calls).toBe(MAX_ATTEMPTS);

    calls = 0;
    const throttled = new ThrottlingException({ message: 'slow', $metadata: {} });
    await expect(
      retry.onConflict(async () => {
        calls++;
        throw throttled;
      }),
    ).rejects.toBe(throttled);
    expect(calls).toBe(1);
  });
});
