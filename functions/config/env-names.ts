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
  /** The email queue, to which a big email audience hands its further slices. */
  emailQueueUrl: 'HERALD_EMAIL_QUEUE_URL',
  /** SES sends per second per email consumer (SES's default production quota is 14). */
  sesRate: 'HERALD_SES_RATE',
  /** Recipients one email invocation takes on; the rest are handed on as tasks. */
  emailRecipientsPerInvocation: 'HERALD_EMAIL_RECIPIENTS_PER_INVOCATION',
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
  /**
   * Seconds during which an envelope id, within its tenant, produces its notifications once:
   * a re-publish of the id within them changes nothing; after them it is a new notification.
   */
  idempotencySeconds: 'HERALD_IDEMPOTENCY_SECONDS',
  /** Seconds a `resume` looks back before its cursor for notifications filed late. */
  resumeLookbackSeconds: 'HERALD_RESUME_LOOKBACK_SECONDS',
  /** Topics one connection may hold (README "Security"). */
  maxSubscriptionsPerConnection: 'HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION',
  /** Connections one user may hold; `$connect` past it closes their oldest. */
  maxConnectionsPerUser: 'HERALD_MAX_CONNECTIONS_PER_USER',
  /** Notification ids one `markRead` frame may name. */
  maxIdsPerRequest: 'HERALD_MAX_IDS_PER_REQUEST',
  /** Users one `presence` query may ask about. */
  maxPresenceUsers: 'HERALD_MAX_PRESENCE_USERS',
  // Monitoring (issue 12)
  /** `npm start` prints the handlers' metrics as EMF lines unless this is `0`. */
  localMetrics: 'HERALD_METRICS',
  // Secret hygiene (README "Security"):
  /** `local` on the local stack; absent (or anything else) means a deployed stage. */
  stage: 'HERALD_STAGE',
  /** Seconds a secret read from Secrets Manager is used before it is read again. */
  jwtSecretRefreshSeconds: 'HERALD_JWT_SECRET_REFRESH_SECONDS',
  /** The `typ` header every token must carry (unchecked when unset). */
  jwtTyp: 'HERALD_JWT_TYP',
  /** The longest validity (`exp - iat`) a token may have. */
  jwtMaxLifetimeSeconds: 'HERALD_JWT_MAX_LIFETIME_SECONDS',
  // Connection lifetime and frame rate (README "Security").
  /** Frames a second one connection may send on average (its token bucket's refill). */
  framesPerSecond: 'HERALD_FRAMES_PER_SECOND',
  /** Frames one connection may send at once (its token bucket's size). */
  frameBurst: 'HERALD_FRAME_BURST',
  /** Frames refused for rate after which the connection is closed. */
  frameRefusalsBeforeClose: 'HERALD_FRAME_REFUSALS_BEFORE_CLOSE',
  // SES reputation (issue 12 item 3)
  /** SES configuration set every send names, whose event destination reports bounces and complaints. */
  sesConfigurationSet: 'HERALD_SES_CONFIGURATION_SET',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
