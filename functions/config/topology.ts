/**
 * Herald's resource topology as plain data: the one definition that the CDK stacks
 * (`infra/`) and the local stack (`local/`) both build from, so local and deployed
 * wiring cannot drift. It lives under functions/config because deployed code reads it too; it imports nothing.
 */

/** Every table has the same generic key schema; item kinds are told apart by key prefixes. */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

export const TOPOLOGY = {
  region: 'us-east-1',
  topic: { name: 'herald-notifications' },
  tables: {
    connections: { localName: 'herald-connections' },
    notifications: { localName: 'herald-notifications' },
  },
  queues: {
    fanOut: {
      name: 'herald-fan-out',
      deadLetterName: 'herald-fan-out-dlq',
      /** Six times the consumer's timeout, as AWS recommends for Lambda event sources. */
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 5,
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      /** Every valid envelope goes to the fan-out; it validates and dead-letters the rest. */
      filterPolicy: undefined,
    },
    email: {
      name: 'herald-email',
      deadLetterName: 'herald-email-dlq',
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 5,
      batchSize: 10,
      maxBatchingWindowSeconds: 1,
      /** Filter on the message body: `channels` contains "email" (AWS matches any array element). */
      filterPolicy: { channels: ['email'] },
    },
  },
  /**
   * The HTTP API (DESIGN.md "HTTP API") as API Gateway route keys: what the CDK stack routes
   * to the inbox function and what the local HTTP server serves, so the two cannot drift.
   */
  httpRoutes: [
    'GET /notifications',
    'GET /notifications/unread-count',
    'POST /notifications/{id}/read',
    'POST /notifications/{id}/unread',
    'POST /notifications/read-all',
    'POST /notifications/{id}/seen',
    'POST /notifications/{id}/archive',
    'POST /notifications/{id}/unarchive',
    'POST /notifications/{id}/interact',
    'POST /notifications/seen-all',
    'DELETE /notifications/{id}',
    'GET /preferences',
    'PUT /preferences',
  ],
  /** Seconds a Lambda consumer of a queue may run; the queue's visibility timeout is a multiple. */
  consumerTimeoutSeconds: 30,
  /** DLQ messages are kept for the longest SQS allows, so nothing is lost before someone looks. */
  deadLetterRetentionDays: 14,
} as const;

export type QueueName = keyof typeof TOPOLOGY.queues;
export type HttpRouteKey = (typeof TOPOLOGY.httpRoutes)[number];
export type QueueTopology = (typeof TOPOLOGY.queues)[QueueName];
