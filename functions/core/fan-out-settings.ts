import { type CoalescingSettings, DEFAULT_COALESCING } from './coalescing';
import type { RetryPolicy } from './deliver';
import type { Notification } from './model';

export interface FanOutSettings {
  /** PostToConnection calls in flight per invocation (size the HTTP agent's sockets alike). */
  concurrency: number;
  /** Users of one envelope stored and resolved in parallel. */
  userConcurrency: number;
  /** Topic connections per page; a bigger audience continues in further invocations. */
  pageSize: number;
  /**
   * Most pages of a topic one invocation walks and hands on as tasks of their own; a longer
   * topic's remainder goes to one more task, which walks on.
   */
  walkPages: number;
  /** How long a stored notification is kept. */
  retentionSeconds: number;
  /**
   * How long an envelope id is remembered, from its first publish: within it a re-publish
   * produces nothing new; after it, the id makes a new notification.
   */
  idempotencySeconds: number;
  retry: RetryPolicy;
  /** Retry tasks after which a connection is given up (it can still resume from the inbox). */
  maxTaskAttempts: number;
  /** Most connections one retry task carries, to stay far below SQS's message size. */
  connectionsPerTask: number;
  /** Coalescing of envelopes that share a `collapseKey` (see core/coalescing). */
  coalescing: CoalescingSettings;
}

export const DEFAULT_FAN_OUT_SETTINGS: FanOutSettings = {
  concurrency: 64,
  userConcurrency: 64,
  pageSize: 1000,
  walkPages: 100,
  retentionSeconds: 90 * 24 * 3600,
  idempotencySeconds: 24 * 3600,
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 },
  maxTaskAttempts: 5,
  connectionsPerTask: 500,
  coalescing: DEFAULT_COALESCING,
};

/** When (epoch s) what the fan-out writes at `atMs` expires: notifications, slots. */
export function retainedUntil(
  atMs: number,
  settings: Pick<FanOutSettings, 'retentionSeconds'>,
): number {
  return Math.floor(atMs / 1000) + settings.retentionSeconds;
}

/** When (epoch s) a stored notification expires: retained from its creation. */
export function notificationExpiresAt(
  notification: Notification,
  settings: Pick<FanOutSettings, 'retentionSeconds'>,
): number {
  return retainedUntil(Date.parse(notification.createdAt), settings);
}

/** When (epoch s) the ledger forgets an envelope id first published at `publishedAt` (ms). */
export function idempotentUntil(
  publishedAt: number,
  settings: Pick<FanOutSettings, 'idempotencySeconds'>,
): number {
  return Math.floor(publishedAt / 1000) + settings.idempotencySeconds;
}
