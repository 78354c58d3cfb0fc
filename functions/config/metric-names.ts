/**
 * Herald's own CloudWatch metrics: the namespace and names that the functions emit through
 * Powertools Metrics (EMF) and that `infra/constructs/monitoring/` alarms on and charts, so
 * the two cannot drift. Each metric carries the `service` dimension (`herald-<handler>`).
 */
export const METRIC_NAMESPACE = 'Herald';

export const METRIC = {
  // The fan-out, per envelope or task.
  delivered: 'Delivered',
  pruned: 'Pruned',
  deferred: 'Deferred',
  /** Connections given up after the last retry task (the inbox still holds the notification). */
  abandoned: 'Abandoned',
  duplicates: 'Duplicates',
  coalesced: 'Coalesced',
  muted: 'Muted',
  /** Milliseconds from the SNS publish timestamp to the fan-out's pushes, per record that pushed. */
  publishToPushLatency: 'PublishToPushLatency',
  /** `@connections` posts answered 429 (throttled) by API Gateway, each try counted. */
  connectionsThrottled: 'ConnectionsThrottled',
  // Any SQS consumer.
  /** Messages dead-lettered as never processable (invalid envelope, poison). */
  messagesRejected: 'MessagesRejected',
  // The email consumer.
  emailsSent: 'EmailsSent',
  emailsSkipped: 'EmailsSkipped',
  emailsHandedOn: 'EmailsHandedOn',
  emailsThrottled: 'EmailsThrottled',
  /** Recipients not mailed because their address hard-bounced or complained (the suppression list). */
  emailsSuppressed: 'EmailsSuppressed',
  // The snooze wake-up, per run.
  snoozesWoken: 'SnoozesWoken',
  /** Minutes between now and the wake-up's watermark: how far behind its reading is. */
  snoozeBacklogMinutes: 'SnoozeBacklogMinutes',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The `service` dimension value of a handler's metrics (its POWERTOOLS_SERVICE_NAME). */
export function serviceName(handlerName: string): string {
  return `herald-${handlerName}`;
}
