import { type DeliveryResult, deliverFrame, type RetryPolicy } from './deliver';
import { toNotification } from './envelope';
import { notificationFrame } from './frames';
import { createLimiter, mapLimited } from './limiter';
import type { ConnectionRef, Envelope, Notification, Recipient } from './model';
import type {
  Clock,
  ConnectionStore,
  Continuations,
  Delivery,
  EventLedger,
  FanOutTask,
  Inbox,
} from './ports';

export interface FanOutSettings {
  /** PostToConnection calls in flight per invocation (size the HTTP agent's sockets alike). */
  concurrency: number;
  /** Users of one envelope stored and resolved in parallel. */
  userConcurrency: number;
  /** Topic connections per page; a bigger audience continues in further invocations. */
  pageSize: number;
  /** How long a stored notification is kept. */
  retentionSeconds: number;
  retry: RetryPolicy;
  /** Retry tasks after which a connection is given up (it can still resume from the inbox). */
  maxTaskAttempts: number;
  /** Most connections one retry task carries, to stay far below SQS's message size. */
  connectionsPerTask: number;
}

export const DEFAULT_FAN_OUT_SETTINGS: FanOutSettings = {
  concurrency: 64,
  userConcurrency: 8,
  pageSize: 1000,
  retentionSeconds: 90 * 24 * 3600,
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 },
  maxTaskAttempts: 5,
  connectionsPerTask: 500,
};

export interface FanOutDeps {
  connections: ConnectionStore;
  inbox: Inbox;
  ledger: EventLedger;
  delivery: Delivery;
  continuations: Continuations;
  clock: Clock;
  settings: FanOutSettings;
  random?: () => number;
}

export interface FanOutReport {
  notificationId: string;
  /** Recipients (users, or a topic) for whom the notification was already stored. */
  duplicates: number;
  delivered: number;
  pruned: number;
  /** Connections handed to a later invocation after failing every retry here. */
  deferred: number;
  /** Connections given up after the last retry task (the inbox still holds the notification). */
  abandoned: number;
  /** Failures that did not fail the message; for the handler to log. */
  problems: Array<{ what: string; error: unknown }>;
}

/** How the message carrying an envelope arrived. */
export interface Arrival {
  /** When SNS accepted the publish (ms): the notification's time and part of its id. */
  publishedAt: number;
  /**
   * True when this message was received before (a retry after a failure or a crash):
   * recipients found already stored are then pushed again, since an earlier attempt
   * may have stored without pushing. Clients de-duplicate by notification id.
   */
  redelivered: boolean;
}

/**
 * Herald's fan-out: stores each notification once per recipient (the conditional write
 * doubles as the idempotency check), pushes it to every live connection with bounded
 * concurrency, prunes connections API Gateway reports gone, and hands whatever still
 * fails, and the further pages of big topic audiences, to later invocations through
 * its own queue. It throws only when nothing would otherwise retry the work.
 */
export function createFanOut(deps: FanOutDeps) {
  const { settings } = deps;
  const limiter = createLimiter(settings.concurrency);
  const random = deps.random ?? Math.random;
  const deliverDeps = {
    delivery: deps.delivery,
    limiter,
    clock: deps.clock,
    retry: settings.retry,
    random,
  };

  function newReport(notification: Notification): FanOutReport {
    return {
      notificationId: notification.id,
      duplicates: 0,
      delivered: 0,
      pruned: 0,
      deferred: 0,
      abandoned: 0,
      problems: [],
    };
  }

  /** Seconds before retry task `attempt` runs: exponential with full jitter, at most 15 min. */
  function retryDelaySeconds(attempt: number): number {
    const ceiling = Math.min(900, 2 ** attempt);
    return Math.max(1, Math.ceil(random() * ceiling));
  }

  function expiresAt(notification: Notification): number {
    return Math.floor(Date.parse(notification.createdAt) / 1000) + settings.retentionSeconds;
  }

  async function listUserConnections(tenant: string, userId: string): Promise<ConnectionRef[]> {
    const all: ConnectionRef[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.connections.listForUser(tenant, userId, cursor);
      all.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return all;
  }

  async function settle(
    result: DeliveryResult,
    envelope: Envelope,
    publishedAt: number,
    attempt: number,
    report: FanOutReport,
  ): Promise<void> {
    report.delivered += result.delivered.length;
    await mapLimited(result.gone, settings.userConcurrency, async (connection) => {
      try {
        await deps.connections.remove(connection.connectionId);
        report.pruned++;
      } catch (error) {
        // The connection's TTL removes it later; the push itself is settled.
        report.problems.push({ what: `prune ${connection.connectionId}`, error });
      }
    });
    if (result.failed.length === 0) return;
    if (attempt >= settings.maxTaskAttempts) {
      report.abandoned += result.failed.length;
      return;
    }
    for (let i = 0; i < result.failed.length; i += settings.connectionsPerTask) {
      const connections = result.failed.slice(i, i + settings.connectionsPerTask);
      await deps.continuations.enqueue(
        { kind: 'retry-connections', envelope, publishedAt, connections, attempt: attempt + 1 },
        retryDelaySeconds(attempt + 1),
      );
    }
    report.deferred += result.failed.length;
  }

  async function toUsers(
    envelope: Envelope,
    users: string[],
    publishedAt: number,
    force: boolean,
    attempt: number,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const frame = notificationFrame(notification);
    const report = newReport(notification);
    const failedUsers: string[] = [];
    await mapLimited(users, settings.userConcurrency, async (userId) => {
      try {
        const recipient: Recipient = { kind: 'user', tenant: envelope.tenant, userId };
        const { fresh } = await deps.inbox.store(recipient, notification, expiresAt(notification));
        if (!fresh) {
          report.duplicates++;
          if (!force) return;
        }
        const connections = await listUserConnections(envelope.tenant, userId);
        const result = await deliverFrame(connections, frame, deliverDeps);
        await settle(result, envelope, publishedAt, attempt, report);
      } catch (error) {
        failedUsers.push(userId);
        report.problems.push({ what: `user ${userId}`, error });
      }
    });
    if (failedUsers.length > 0) {
      // Retry just these users, pushing even where the store went through before.
      if (attempt >= settings.maxTaskAttempts) {
        throw new AggregateError(
          report.problems.map((problem) => problem.error),
          `fan-out to ${failedUsers.length} user(s) kept failing`,
        );
      }
      await deps.continuations.enqueue(
        {
          kind: 'retry-users',
          envelope: { ...envelope, to: { users: failedUsers } },
          publishedAt,
          attempt: attempt + 1,
        },
        retryDelaySeconds(attempt + 1),
      );
    }
    return report;
  }

  async function broadcastPage(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    cursor: string | undefined,
    report: FanOutReport,
  ): Promise<void> {
    const page = await deps.connections.listForTopic(envelope.tenant, topic, {
      cursor,
      limit: settings.pageSize,
    });
    // Hand on the next page before pushing this one, so pages are pushed in parallel by
    // concurrent invocations and delivery time stays bounded by the account's throttle.
    if (page.cursor) {
      await deps.continuations.enqueue({
        kind: 'broadcast-page',
        envelope,
        publishedAt,
        cursor: page.cursor,
      });
    }
    const frame = notificationFrame(toNotification(envelope, publishedAt));
    const result = await deliverFrame(page.items, frame, deliverDeps);
    await settle(result, envelope, publishedAt, 0, report);
  }

  async function toTopic(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    force: boolean,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const report = newReport(notification);
    const recipient: Recipient = { kind: 'topic', tenant: envelope.tenant, topic };
    const { fresh } = await deps.inbox.store(recipient, notification, expiresAt(notification));
    if (!fresh) {
      report.duplicates++;
      if (!force) return report;
    }
    await broadcastPage(envelope, topic, publishedAt, undefined, report);
    return report;
  }

  return {
    /** Handles one published envelope. */
    async publish(envelope: Envelope, arrival: Arrival): Promise<FanOutReport> {
      // A re-published id takes its first publish time, hence its first notification id.
      const publishedAt = await deps.ledger.firstPublished(
        envelope.tenant,
        envelope.id,
        arrival.publishedAt,
        Math.floor(arrival.publishedAt / 1000) + settings.retentionSeconds,
      );
      if (!envelope.channels.includes('inapp')) {
        return newReport(toNotification(envelope, publishedAt));
      }
      if ('users' in envelope.to) {
        return toUsers(envelope, envelope.to.users, publishedAt, arrival.redelivered, 0);
      }
      return toTopic(envelope, envelope.to.topic, publishedAt, arrival.redelivered);
    },

    /** Handles work an earlier invocation handed on. */
    async run(task: FanOutTask): Promise<FanOutReport> {
      const { envelope, publishedAt } = task;
      switch (task.kind) {
        case 'retry-users': {
          const users = 'users' in envelope.to ? envelope.to.users : [];
          return toUsers(envelope, users, publishedAt, true, task.attempt);
        }
        case 'retry-connections': {
          const notification = toNotification(envelope, publishedAt);
          const report = newReport(notification);
          const frame = notificationFrame(notification);
          const result = await deliverFrame(task.connections, frame, deliverDeps);
          await settle(result, envelope, publishedAt, task.attempt, report);
          return report;
        }
        case 'broadcast-page': {
          const report = newReport(toNotification(envelope, publishedAt));
          if (!('topic' in envelope.to)) throw new TypeError('broadcast page without a topic');
          await broadcastPage(envelope, envelope.to.topic, publishedAt, task.cursor, report);
          return report;
        }
      }
    },
  };
}

export type FanOut = ReturnType<typeof createFanOut>;
