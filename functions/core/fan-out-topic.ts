/**
 * Delivering an envelope to a topic: stored once in the topic's history, then broadcast to
 * whoever subscribed (not filtered by preference: a lookup per subscriber would not scale
 * to big audiences), or, with a `collapseKey`, through the topic's collapse window.
 */
import { toNotification } from './envelope';
import type { FanOutBatch } from './fan-out-batch';
import type { Broadcaster } from './fan-out-broadcast';
import { type FanOutReport, newReport } from './fan-out-report';
import { type FanOutSettings, notificationExpiresAt } from './fan-out-settings';
import { type FanOutWindows, followTurn } from './fan-out-windows';
import type { Envelope, Recipient } from './model';
import type { CollapseCandidate, FanOutInbox } from './ports';

export interface TopicDeliveryDeps {
  inbox: FanOutInbox;
  broadcaster: Broadcaster;
  /** Absent when coalescing is off. */
  windows: FanOutWindows | undefined;
  settings: Pick<FanOutSettings, 'retentionSeconds'>;
}

export interface ToTopicOptions {
  /** Broadcast even when the topic has it stored already: this message was received before. */
  force: boolean;
  batch: FanOutBatch;
}

export function createTopicDelivery(deps: TopicDeliveryDeps) {
  const { broadcaster, windows } = deps;

  return async function toTopic(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    options: ToTopicOptions,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const report = newReport(notification.id);
    const recipient: Recipient = { kind: 'topic', tenant: envelope.tenant, topic };
    const collapseKey = windows && envelope.collapseKey;
    if (!windows || !collapseKey) {
      const expiresAt = notificationExpiresAt(notification, deps.settings);
      const { fresh } = await deps.inbox.store(recipient, notification, expiresAt);
      if (!fresh) {
        report.duplicates++;
        if (!options.force) return report;
      }
      await broadcaster.from({ envelope, topic, publishedAt }, report);
      return report;
    }
    const turn = await windows.offer(
      { recipient, collapseKey },
      { envelope, publishedAt },
      options,
    );
    const broadcastLatest = (latest: CollapseCandidate) =>
      broadcaster.from(
        { envelope: latest.envelope, topic, publishedAt: latest.publishedAt },
        report,
      );
    await followTurn(turn, report, {
      claimant: async (window) => {
        await windows.untilEnded([window]);
        await windows.finish(window, report, broadcastLatest);
      },
      member: (done) => done,
      delivered: broadcastLatest,
    });
    return report;
  };
}

export type TopicDelivery = ReturnType<typeof createTopicDelivery>;
