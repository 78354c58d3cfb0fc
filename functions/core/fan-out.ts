/**
 * Herald's fan-out: stores each notification once per recipient (the event ledger maps a
 * re-published id to its first notification id, and the conditional write of the
 * notification is then the idempotency check), pushes it to every live connection with bounded
 * concurrency, prunes connections API Gateway reports gone, and hands whatever still
 * fails, and the further pages of big topic audiences, to later invocations through
 * its own queue. It throws only when nothing would otherwise retry the work.
 *
 * This file wires the parts and routes each message to one of them:
 * - fan-out-users: preferences, inbox and push for the users an envelope names;
 * - fan-out-topic and fan-out-broadcast: a topic's history, and its audience split in pages;
 * - fan-out-live: change events (`channels: ["live"]`), pushed and never stored;
 * - fan-out-windows: envelopes with a `collapseKey`, through collapse windows (core/coalescing);
 * - fan-out-push: pushes, counted in the report, and retry tasks for what kept failing;
 * - fan-out-batch: what the records of one SQS batch share.
 */
import type { ChangeLog } from './changes';
import { isLive, toNotification } from './envelope';
import { FanOutBatch } from './fan-out-batch';
import { createBroadcaster } from './fan-out-broadcast';
import { createLiveDelivery } from './fan-out-live';
import { createFanOutPush, frameOf } from './fan-out-push';
import { type FanOutReport, newReport } from './fan-out-report';
import { type FanOutSettings, idempotentUntil } from './fan-out-settings';
import { createTopicDelivery } from './fan-out-topic';
import { createUserDelivery } from './fan-out-users';
import { createFanOutWindows } from './fan-out-windows';
import { createLimiter } from './limiter';
import type { ConnectionRef, Envelope } from './model';
import type {
  Clock,
  CollapseStore,
  ConnectionStore,
  Continuations,
  Delivery,
  EventLedger,
  FanOutInbox,
  FanOutTask,
  PreferenceStore,
} from './ports';
import { createPusher } from './push';

export { FanOutBatch } from './fan-out-batch';
export { PAGES_PER_WALK } from './fan-out-broadcast';
export type { FanOutReport } from './fan-out-report';
export { DEFAULT_FAN_OUT_SETTINGS, type FanOutSettings } from './fan-out-settings';

export interface FanOutDeps {
  connections: ConnectionStore;
  inbox: FanOutInbox;
  ledger: EventLedger;
  delivery: Delivery;
  continuations: Continuations;
  /** Users' and tenants' preferences: whether a type goes to the inbox and the sockets. */
  preferences: Pick<PreferenceStore, 'many'>;
  /** Shared collapse windows, for envelopes with a `collapseKey`. */
  collapses: CollapseStore;
  /** The last change per kind of each recipient, noted by change events for `resume`. */
  changes: ChangeLog;
  clock: Clock;
  settings: FanOutSettings;
  random?: () => number;
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
  /** The batch it arrived in: envelopes of one batch share lookups and coalesce in memory. */
  batch?: FanOutBatch;
}

/** Connections looked up at once when a retry task's targets are checked. */
const TARGET_CHECKS_IN_FLIGHT = 25;

export function createFanOut(deps: FanOutDeps) {
  const { settings, connections, continuations } = deps;

  /** The refs whose stored connection is of the envelope's tenant and audience. */
  async function audienceOnly(envelope: Envelope, refs: ConnectionRef[]): Promise<ConnectionRef[]> {
    const kept: ConnectionRef[] = [];
    for (let at = 0; at < refs.length; at += TARGET_CHECKS_IN_FLIGHT) {
      const chunk = refs.slice(at, at + TARGET_CHECKS_IN_FLIGHT);
      const stored = await Promise.all(chunk.map((ref) => connections.get(ref.connectionId)));
      chunk.forEach((ref, index) => {
        const connection = stored[index];
        if (connection === undefined || connection.tenant !== envelope.tenant) return;
        if (connection.userId !== ref.userId) return;
        const { to } = envelope;
        const inAudience =
          'users' in to
            ? to.users.includes(connection.userId)
            : connection.topics.includes(to.topic);
        if (inAudience) kept.push(ref);
      });
    }
    return kept;
  }
  const random = deps.random ?? Math.random;
  const pusher = createPusher({
    connections,
    delivery: deps.delivery,
    // One bound for every post of the invocation, across the records of its batch.
    limiter: createLimiter(settings.concurrency),
    clock: deps.clock,
    retry: settings.retry,
    random,
    pruneConcurrency: settings.userConcurrency,
  });
  const push = createFanOutPush({ pusher, continuations, settings, random });
  const windows =
    settings.coalescing.windowMs > 0 ? createFanOutWindows({ ...deps, settings }) : undefined;
  const broadcaster = createBroadcaster({ connections, continuations, push, settings });
  const { toUsers, askPreferences } = createUserDelivery({
    ...deps,
    push,
    windows,
    settings,
    random,
  });
  const toTopic = createTopicDelivery({ inbox: deps.inbox, broadcaster, windows, settings });
  const live = createLiveDelivery({ ...deps, push, broadcaster, windows, settings, random });

  /** A report of nothing done, for an envelope as published at `publishedAt`. */
  const nothingFor = (envelope: Envelope, publishedAt: number): FanOutReport =>
    newReport(toNotification(envelope, publishedAt).id);

  return {
    /** Handles one published envelope. */
    async publish(envelope: Envelope, arrival: Arrival): Promise<FanOutReport> {
      if (isLive(envelope)) {
        // Pushed, never stored: no ledger entry, no preferences (a change event is the
        // app's own signal to refetch, not a notification a user could mute).
        const batch = arrival.batch ?? new FanOutBatch();
        const options = { force: arrival.redelivered, attempt: 0, batch };
        const { publishedAt } = arrival;
        return 'users' in envelope.to
          ? live.toUsers(envelope, envelope.to.users, publishedAt, options)
          : live.toTopic(envelope, envelope.to.topic, publishedAt, options);
      }
      if (!envelope.channels.includes('inapp')) return nothingFor(envelope, arrival.publishedAt);
      // The ledger gives a re-published id (within the idempotency horizon) its first
      // publish time, hence its first notification id: every recipient's inbox then holds
      // it already (the conditional Put says so) and nobody is pushed it again. One write
      // per envelope, whatever its audience; coalesced envelopes are recorded too, so
      // re-publishing any of them changes nothing.
      const batch = arrival.batch ?? new FanOutBatch();
      const recorded = deps.ledger.firstPublished(
        envelope.tenant,
        envelope.id,
        arrival.publishedAt,
        idempotentUntil(arrival.publishedAt, settings),
      );
      // Asked while the ledger write is under way, so the records of a batch still share
      // one preference read (their ledger writes finish at different times).
      if ('users' in envelope.to) askPreferences(envelope, envelope.to.users, batch);
      const publishedAt = await recorded;
      const force = arrival.redelivered;
      if ('users' in envelope.to) {
        return toUsers(envelope, envelope.to.users, publishedAt, { force, attempt: 0, batch });
      }
      return toTopic(envelope, envelope.to.topic, publishedAt, { force, batch });
    },

    /** Handles work an earlier invocation handed on. */
    async run(task: FanOutTask, batch = new FanOutBatch()): Promise<FanOutReport> {
      const { envelope, publishedAt } = task;
      switch (task.kind) {
        case 'retry-users': {
          const users = 'users' in envelope.to ? envelope.to.users : [];
          if (isLive(envelope)) {
            return live.toUsers(envelope, users, publishedAt, {
              force: true,
              attempt: task.attempt,
              batch,
            });
          }
          return toUsers(envelope, users, publishedAt, {
            force: true,
            attempt: task.attempt,
            batch,
          });
        }
        case 'retry-connections': {
          const report = nothingFor(envelope, publishedAt);
          const frame = frameOf(envelope, publishedAt);
          // Anyone who can send to the queue can write this task: push only to connections
          // the store says belong to the envelope's audience, in its tenant.
          const targets = await audienceOnly(envelope, task.connections);
          await push.toConnections(targets, frame, task, report);
          return report;
        }
        case 'broadcast-page': {
          const report = nothingFor(envelope, publishedAt);
          if (!('topic' in envelope.to)) throw new TypeError('broadcast page without a topic');
          const broadcast = { envelope, topic: envelope.to.topic, publishedAt };
          const { cursor, until } = task;
          if (until === undefined) await broadcaster.from(broadcast, report, cursor);
          else await broadcaster.range(broadcast, report, { cursor, until });
          return report;
        }
      }
    },
  };
}

export type FanOut = ReturnType<typeof createFanOut>;
