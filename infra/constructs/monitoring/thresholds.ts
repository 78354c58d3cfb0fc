/**
 * When Herald's alarms fire. Each number is a judgement about what an operator must hear of;
 * the README's "Monitoring" table lists them with why.
 */
export const THRESHOLDS = {
  /** Minutes a work queue's oldest message may wait before someone should look. */
  oldestMessageMinutes: { fanOut: 5, email: 15 },
  /** p99 duration as a share of the function's timeout: past it, invocations come near timing out. */
  durationShareOfTimeout: 0.8,
  /** HTTP API answers that are 5xx, percent of requests over five minutes. */
  httpServerErrorPercent: 1,
  /**
   * SES reputation, as fractions: AWS reviews an account at a 5% bounce or 0.1% complaint
   * rate and may pause sending at 10% or 0.5%; these fire well before the review.
   */
  sesBounceRate: 0.04,
  sesComplaintRate: 0.0008,
  /** `@connections` posts throttled (429) in five minutes; retries absorb a few. */
  connectionsThrottled: 50,
  /**
   * Minutes the snooze wake-up's watermark may lag behind now: a run reads up to the minute
   * before its own, so 2 is normal; past this, snoozes come back late (nothing is lost).
   */
  snoozeBacklogMinutes: 10,
} as const;
