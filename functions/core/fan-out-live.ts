/**
 * Delivering a change event (`channels: ["live"]`): pushed as a `change` frame to every live
 * connection of the users it names, or of a topic's subscribers, and never stored, counted
 * or mailed. What it leaves is one note per recipient in the change log (the last change
 * per kind, for `resume`). With a `collapseKey` it goes through the recipient's collapse
 * window (core/coalescing, in a slot of its own apart from notifications'), so a burst
 * becomes a few pushes, the latest always among them. No event ledger: a re-published id
 * is pushed again, which clients, dropping ids they have seen, take as at-least-once.
 */
import { type ChangeLog, MAX_CHANGE_KINDS, recordOf } from './changes';
import type { ClaimedWindow } from './coalescing';
import { toChange } from './envelope';
import type { FanOutBatch } from './fan-out-batch';
import type { Broadcaster } from './fan-out-broadcast';
import { type FanOutPush, retryTaskDelaySeconds } from './fan-out-push';
import { type FanOutReport, newReport } from './fan-out-report';
import { type FanOutSettings, retainedUntil } from './fan-out-settings';
import { type FanOutWindows, followTurn } from './fan-out-windows';
import { mapLimited } from './limiter';
import type { Envelope, Recipient } from './model';
import type { Clock, CollapseCandidate, Continuations } from './ports';

export interface LiveDeliveryDeps {
  changes: ChangeLog;
  push: FanOutPush;
  broadcaster: Broadcaster;
  continuations: Continuations;
  /** Absent when coalescing is off. */
  windows: FanOutWindows | undefined;
  clock: Clock;
  settings: Pick<FanOutSettings, 'userConcurrency' | 'maxTaskAttempts' | 'retentionSeconds'>;
  random: () => number;
}

export interface LiveOptions {
  /** This message was received before: a window it settled is pushed again. */
  force: boolean;
  /** Which retry task this is: 0 for the publish itself. */
  attempt: number;
  batch: FanOutBatch;
}

interface Published {
  envelope: Envelope;
  publishedAt: number;
}

export function createLiveDelivery(deps: LiveDeliveryDeps) {
  const { settings, windows } = deps;

  /** Notes the change as its kind's last for the recipient. */
  function record(recipient: Recipient, { envelope, publishedAt }: Published): Promise<void> {
    const now = deps.clock.now();
    return deps.changes.note(recipient, recordOf(envelope, publishedAt, now), {
      expiresAt: retainedUntil(now, settings),
      keep: MAX_CHANGE_KINDS,
    });
  }

  /** Notes the change for a user and pushes it to their connections, side by side. */
  async function recordAndPush(
    userId: string,
    published: Published,
    options: LiveOptions,
    report: FanOutReport,
  ): Promise<void> {
    const recipient: Recipient = { kind: 'user', tenant: published.envelope.tenant, userId };
    const source = { ...published, attempt: options.attempt };
    await Promise.all([record(recipient, published), deps.push.toUser(userId, source, report)]);
  }

  async function toUsers(
    envelope: Envelope,
    users: readonly string[],
    publishedAt: number,
    options: LiveOptions,
  ): Promise<FanOutReport> {
    const report = newReport(toChange(envelope, publishedAt).id);
    const published = { envelope, publishedAt };
    const claims: Array<{ userId: string; window: ClaimedWindow }> = [];
    const members: Array<Promise<void>> = [];
    const failed: string[] = [];
    const fail = (userId: string, error: unknown) => {
      failed.push(userId);
      report.problems.push({ what: `user ${userId}`, error });
    };
    const pushLatest = (userId: string, latest: CollapseCandidate) => {
      const source = { ...latest, attempt: options.attempt };
      return deps.push.toUser(userId, source, report);
    };

    await mapLimited(users, settings.userConcurrency, async (userId) => {
      try {
        const collapseKey = windows && envelope.collapseKey;
        if (!windows || !collapseKey)
          return await recordAndPush(userId, published, options, report);
        const recipient: Recipient = { kind: 'user', tenant: envelope.tenant, userId };
        const turn = await windows.offer(
          { recipient, collapseKey, live: true },
          published,
          options,
        );
        await followTurn(turn, report, {
          claimant: (window) => {
            claims.push({ userId, window });
          },
          member: (done) => {
            members.push(done);
          },
          delivered: (latest) => pushLatest(userId, latest),
        });
      } catch (error) {
        fail(userId, error);
      }
    });
    if (windows && claims.length > 0) {
      await windows.untilEnded(claims.map((claim) => claim.window));
      await mapLimited(claims, settings.userConcurrency, ({ userId, window }) =>
        windows
          .finishLive(window, report, {
            record: (latest) => record(window.slot.recipient, latest),
            push: (latest) => pushLatest(userId, latest),
          })
          .catch((error: unknown) => fail(userId, error)),
      );
    }
    if (failed.length > 0) await retryUsers(published, failed, options, report);
    // Folded into an earlier envelope of this batch: done once that one is.
    await Promise.all(members);
    return report;
  }

  /** Hands the users whose note or window failed to a retry task, which pushes again. */
  async function retryUsers(
    { envelope, publishedAt }: Published,
    users: string[],
    options: LiveOptions,
    report: FanOutReport,
  ): Promise<void> {
    if (options.attempt >= settings.maxTaskAttempts) {
      throw new AggregateError(
        report.problems.map((problem) => problem.error),
        `change event to ${users.length} user(s) kept failing`,
      );
    }
    const attempt = options.attempt + 1;
    await deps.continuations.enqueue(
      { kind: 'retry-users', envelope: { ...envelope, to: { users } }, publishedAt, attempt },
      retryTaskDelaySeconds(attempt, deps.random),
    );
  }

  async function toTopic(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    options: LiveOptions,
  ): Promise<FanOutReport> {
    const report = newReport(toChange(envelope, publishedAt).id);
    const recipient: Recipient = { kind: 'topic', tenant: envelope.tenant, topic };
    const broadcast = (latest: Published) => deps.broadcaster.from({ ...latest, topic }, report);
    const collapseKey = windows && envelope.collapseKey;
    if (!windows || !collapseKey) {
      // Noted first: a failure then fails the message, and its retry broadcasts once more.
      await record(recipient, { envelope, publishedAt });
      await broadcast({ envelope, publishedAt });
      return report;
    }
    const turn = await windows.offer(
      { recipient, collapseKey, live: true },
      { envelope, publishedAt },
      options,
    );
    await followTurn(turn, report, {
      claimant: async (window) => {
        await windows.untilEnded([window]);
        await windows.finishLive(window, report, {
          record: (latest) => record(recipient, latest),
          push: broadcast,
        });
      },
      member: (done) => done,
      delivered: broadcast,
    });
    return report;
  }

  return { toUsers, toTopic };
}

export type LiveDelivery = ReturnType<typeof createLiveDelivery>;
