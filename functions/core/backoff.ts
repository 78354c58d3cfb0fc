/**
 * The one jittered backoff of Herald: exponential, capped, with full jitter (a uniformly
 * random wait below the ceiling), so retries of many concurrent writers spread out instead
 * of hitting a throttled service together. Every retry loop (posts to connections,
 * DynamoDB writes and batch reads, retry tasks) takes its waits from here.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's wait (attempt 1); it doubles each attempt. */
  baseDelayMs: number;
  /** Largest ceiling, whatever the attempt. */
  maxDelayMs: number;
}

/** Ms to wait before retry `attempt` (1 for the first retry): uniform in [0, ceiling). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Sleeps the backoff of retry `attempt` through `sleep` (a Clock's, so tests can skip it). */
export function backoff(
  attempt: number,
  policy: BackoffPolicy,
  sleep: (ms: number) => Promise<void>,
  random: () => number = Math.random,
): Promise<void> {
  return sleep(backoffDelay(attempt, policy, random));
}
