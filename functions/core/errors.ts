/**
 * Herald's one error hierarchy. Each error carries a stable `code` that clients see;
 * `message` is safe to show (never a token, a stack or a raw upstream error).
 */
export class HeraldError extends Error {
  override name = 'HeraldError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller sent something malformed: a bad frame, a bad query, a bad body. */
export class BadRequestError extends HeraldError {
  override name = 'BadRequestError';
  constructor(message: string, code = 'bad_request', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The caller is who they say, but may not do this (e.g. a topic outside their token's patterns). */
export class ForbiddenError extends HeraldError {
  override name = 'ForbiddenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
  }
}

/**
 * The caller asked for more than a configured cap allows (subscriptions per connection, ids
 * per request, users per query); the code names which cap.
 */
export class LimitExceededError extends HeraldError {
  override name = 'LimitExceededError';
}

export function tooManySubscriptions(maxTopics: number): LimitExceededError {
  return new LimitExceededError(
    'too_many_subscriptions',
    `a connection may hold at most ${maxTopics} subscriptions: unsubscribe some first`,
  );
}

/** No valid credentials: missing, expired, badly signed or otherwise invalid token. */
export class UnauthorizedError extends HeraldError {
  override name = 'UnauthorizedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unauthorized', message, options);
  }
}

export class NotFoundError extends HeraldError {
  override name = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** A publish envelope that can never be processed; it goes to the DLQ with this reason. */
export class InvalidEnvelopeError extends HeraldError {
  override name = 'InvalidEnvelopeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_envelope', message, options);
  }
}

/** The connection no longer exists at API Gateway (410 GoneException). */
export class ConnectionGoneError extends HeraldError {
  override name = 'ConnectionGoneError';
  constructor(
    readonly connectionId: string,
    options?: { cause?: unknown },
  ) {
    super('connection_gone', `connection ${connectionId} is gone`, options);
  }
}

/** A call that may succeed if tried again later (throttling, 5xx, network). */
export class RetryableError extends HeraldError {
  override name = 'RetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('retryable', message, options);
  }
}

/** What a client may be told about any error: its code and a safe message, nothing else. */
export function toErrorBody(error: unknown): { code: string; message: string } {
  if (error instanceof HeraldError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'internal error' };
}
