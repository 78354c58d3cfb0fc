/**
 * Environment variable names shared by `infra/` (which sets them) and `functions/`
 * (which reads them), so the two cannot drift.
 */
export const ENV = {
  connectionsTable: 'HERALD_CONNECTIONS_TABLE',
  notificationsTable: 'HERALD_NOTIFICATIONS_TABLE',
  /** The WebSocket stage's `@connections` callback URL (never derived from the request's domain). */
  callbackUrl: 'HERALD_CALLBACK_URL',
  /** The fan-out queue, to which big audiences hand their next page. */
  fanOutQueueUrl: 'HERALD_FANOUT_QUEUE_URL',
  /**
   * Where each consumer puts a message it can never process, with the reason. One name
   * per consumer, since the local stack runs every handler in one process.
   */
  fanOutDeadLetterQueueUrl: 'HERALD_FANOUT_DLQ_URL',
  emailDeadLetterQueueUrl: 'HERALD_EMAIL_DLQ_URL',
  /** HS256 shared secret (local and tests); in AWS prefer `jwtSecretArn`. */
  jwtSecret: 'HERALD_JWT_SECRET',
  /** Secrets Manager ARN of the HS256 secret. */
  jwtSecretArn: 'HERALD_JWT_SECRET_ARN',
  /** JWKS URL for RS256/ES256 tokens. */
  jwksUrl: 'HERALD_JWKS_URL',
  jwtIssuer: 'HERALD_JWT_ISSUER',
  jwtAudience: 'HERALD_JWT_AUDIENCE',
  /** Verified SES identity that Herald sends mail from. */
  emailFrom: 'HERALD_EMAIL_FROM',
  /** PostToConnection calls in flight per fan-out invocation. */
  deliveryConcurrency: 'HERALD_DELIVERY_CONCURRENCY',
  /** Connections per page of a topic broadcast handed to one invocation. */
  broadcastPageSize: 'HERALD_BROADCAST_PAGE_SIZE',
  /** Days a stored notification is kept. */
  retentionDays: 'HERALD_RETENTION_DAYS',
  /** Milliseconds a collapse window gathers envelopes of one `collapseKey` (0 turns it off). */
  collapseWindowMs: 'HERALD_COLLAPSE_WINDOW_MS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
