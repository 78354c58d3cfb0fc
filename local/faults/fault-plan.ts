/**
 * Faults the local stack can inject on demand, so Herald's promises (exactly once in the
 * inbox, exact badges, nothing lost) can be watched holding under the failures AWS really
 * gives. Every rate is a probability from 0 to 1 per request or invocation; an absent rate is 0,
 * and an absent plan injects nothing.
 */
export interface FaultPlan {
  /** Answers of the @connections management API (local/gateway/management-api.ts). */
  connections?: {
    /** 429 LimitExceededException, the message not posted. */
    throttleRate?: number;
    /** 500 InternalServerErrorException, the message not posted. */
    errorRate?: number;
    /** The answer (a normal one) held back `slowMs` first. */
    slowRate?: number;
    slowMs?: number;
  };
  /**
   * A proxy in front of DynamoDB Local answering 400 ProvisionedThroughputExceededException as
   * AWS does, at this rate of data-plane requests (GetItem, PutItem, Query, BatchWriteItem…).
   */
  dynamodb?: { throttleRate?: number };
  /** SES send answers: an error as SES gives it (400 Throttling or 500), at this rate. */
  ses?: { errorRate?: number };
  /**
   * The SQS runners' handler invocations. crash: the handler dies mid-batch (part of the batch
   * handled, then the invocation's result is lost, so the whole batch comes back after the
   * visibility timeout, as in Lambda). overrun: the invocation runs past its timeout and is
   * abandoned (its result ignored, the batch redelivered) while its work may have happened.
   */
  handlers?: { crashRate?: number; overrunRate?: number };
  /** Seed of the fault dice, so a run can be repeated. */
  seed?: number;
}

/** How long a slow `@connections` answer is held back when the plan gives no `slowMs`. */
export const DEFAULT_SLOW_MS = 1_000;
