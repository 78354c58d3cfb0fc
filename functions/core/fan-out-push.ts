/**
 * The fan-out's pushes: a notification frame to connections through the pusher, counted in
 * the report, with the connections that kept failing handed to a later invocation as retry
 * tasks (or, after the last of those, given up: the inbox still holds the notification).
 */
import { backoffDelay } from './backoff';
import { isLive, toChange, toNotification } from './envelope';
import type { FanOutReport } from './fan-out-report';
import type { FanOutSettings } from './fan-out-settings';
import { changeFrame, notificationFrame } from './frames';
import type { ConnectionRef, Envelope } from './model';
import type { Continuations } from './ports';
import type { Pusher, PushOutcome } from './push';

/** What a retry task rebuilds a push from, and which retry task it was (0: none yet). */
export interface PushSource {
  envelope: Envelope;
  publishedAt: number;
  attempt: number;
}

/** Retry task n waits up to min(15 min, 2^n s), for SQS in whole seconds and at least one. */
const RETRY_TASK_BACKOFF = { baseDelayMs: 2000, maxDelayMs: 900_000 };

/** Seconds before retry task `attempt` runs: exponential with full jitter. */
export function retryTaskDelaySeconds(attempt: number, random: () => number): number {
  return Math.max(1, Math.ceil(backoffDelay(attempt, RETRY_TASK_BACKOFF, random) / 1000));
}

/**
 * The frame an envelope published at `publishedAt` is pushed as: its notification, or for a
 * change event (`channels: ["live"]`) its change.
 */
export function frameOf(envelope: Envelope, publishedAt: number): string {
  return isLive(envelope)
    ? changeFrame(toChange(envelope, publishedAt))
    : notificationFrame(toNotification(envelope, publishedAt));
}

export interface FanOutPushDeps {
  pusher: Pusher;
  continuations: Continuations;
  settings: Pick<FanOutSettings, 'maxTaskAttempts' | 'connectionsPerTask'>;
  random: () => number;
}

export function createFanOutPush(deps: FanOutPushDeps) {
  const { settings } = deps;

  async function settle(outcome: PushOutcome, source: PushSource, report: FanOutReport) {
    report.delivered += outcome.delivered.length;
    report.pruned += outcome.pruned;
    report.problems.push(...outcome.problems);
    const { failed } = outcome;
    if (failed.length === 0) return;
    if (source.attempt >= settings.maxTaskAttempts) {
      report.abandoned += failed.length;
      return;
    }
    const attempt = source.attempt + 1;
    for (let i = 0; i < failed.length; i += settings.connectionsPerTask) {
      const connections = failed.slice(i, i + settings.connectionsPerTask);
      const { envelope, publishedAt } = source;
      await deps.continuations.enqueue(
        { kind: 'retry-connections', envelope, publishedAt, connections, attempt },
        retryTaskDelaySeconds(attempt, deps.random),
      );
    }
    report.deferred += failed.length;
  }

  return {
    /** Pushes `frame` (the source's notification, or the one a recipient already had). */
    async toConnections(
      connections: readonly ConnectionRef[],
      frame: string,
      source: PushSource,
      report: FanOutReport,
    ): Promise<void> {
      await settle(await deps.pusher.push(connections, frame), source, report);
    },

    /** Pushes the source's notification to every live connection of one user. */
    async toUser(userId: string, source: PushSource, report: FanOutReport): Promise<void> {
      const frame = frameOf(source.envelope, source.publishedAt);
      const outcome = await deps.pusher.pushToUser(source.envelope.tenant, userId, frame);
      await settle(outcome, source, report);
    },
  };
}

export type FanOutPush = ReturnType<typeof createFanOutPush>;
