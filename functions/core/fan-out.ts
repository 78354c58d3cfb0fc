import {
  type ClaimedWindow,
  type CoalescingSettings,
  CollapseGroups,
  createCoalescer,
  DEFAULT_COALESCING,
  slotEnvelope,
} from './coalescing';
import { type DeliveryResult, deliverFrame, type RetryPolicy } from './deliver';
import { toNotification } from './envelope';
import { notificationFrame } from './frames';
import { createLimiter, mapLimited } from './limiter';
import type { ConnectionRef, Envelope, Notification, Preferences, Recipient } from './model';
import type {
  Clock,
  CollapseCandidate,
  CollapseStore,
  ConnectionStore,
  Continuations,
  Delivery,
  EventLedger,
  FanOutInbox,
  FanOutTask,
  PreferenceKey,
  PreferenceStore,
} from './ports';
import { resolveChannels } from './preferences';

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
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 },
  maxTaskAttempts: 5,
  connectionsPerTask: 500,
  coalescing: DEFAULT_COALESCING,
};

/** Pages a broadcast walks at a time before handing them on: one SendMessageBatch's worth. */
export const PAGES_PER_WALK = 10;

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
  clock: Clock;
  settings: FanOutSettings;
  random?: () => number;
}

export interface FanOutReport {
  /** The notification's id; for an event its recipients had under an earlier publish, that one's. */
  notificationId: string;
  /** Recipients (users, or a topic) for whom the notification was already stored. */
  duplicates: number;
  /**
   * Recipients for whom this envelope was folded into a collapse window whose push carries
   * the latest envelope of its key instead (possibly this one, pushed by another invocation).
   */
  coalesced: number;
  /** Users whose preferences keep this type out of their inbox and off their sockets. */
  muted: number;
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
  /** The batch it arrived in: envelopes of one batch share lookups and coalesce in memory. */
  batch?: FanOutBatch;
}

type PreferenceReader = (keys: readonly PreferenceKey[]) => Promise<Array<Preferences | undefined>>;

/**
 * What the records of one SQS batch (one invocation) share: preference lookups made once
 * each, and gathered: every key asked for before the event loop turns goes into one read
 * (records of a batch start together), and the collapse groups that gather a batch's
 * envelopes of one key in memory.
 */
export class FanOutBatch {
  readonly collapse = new CollapseGroups();
  private readonly lookups = new Map<string, Promise<Preferences | undefined>>();
  private pending: Array<{
    key: PreferenceKey;
    resolve: (value: Preferences | undefined) => void;
    reject: (error: unknown) => void;
  }> = [];

  /**
   * One read per key per batch; concurrent askers share it, a failed one is asked again.
   * Keys asked for in the same turn of the event loop go to `read` together (it splits
   * them into requests); every asker passes the same `read`.
   */
  preferences(key: PreferenceKey, read: PreferenceReader): Promise<Preferences | undefined> {
    const id =
      key.userId === undefined
        ? `tenant\u0000${key.tenant}`
        : `user\u0000${key.tenant}\u0000${key.userId}`;
    let found = this.lookups.get(id);
    if (found === undefined) {
      found = new Promise((resolve, reject) => {
        this.pending.push({ key, resolve, reject });
        if (this.pending.length === 1) setImmediate(() => this.dispatch(read));
      });
      found.catch(() => this.lookups.delete(id));
      this.lookups.set(id, found);
    }
    return found;
  }

  private dispatch(read: PreferenceReader): void {
    const asked = this.pending;
    this.pending = [];
    read(asked.map((each) => each.key)).then(
      (values) => {
        for (const [n, each] of asked.entries()) each.resolve(values[n]);
      },
      (error: unknown) => {
        for (const each of asked) each.reject(error);
      },
    );
  }
}

/**
 * Herald's fan-out: stores each notification once per recipient (the conditional write
 * doubles as the idempotency check), pushes it to every live connection with bounded
 * concurrency, prunes connections API Gateway reports gone, and hands whatever still
 * fails, and the further pages of big topic audiences, to later invocations through
 * its own queue. It throws only when nothing would otherwise retry the work.
 *
 * A user whose preferences turn in-app off for the envelope's type gets nothing stored
 * and nothing pushed. Topic broadcasts go to whoever subscribed and are not filtered by
 * preference (a GetItem per subscriber would not scale to big audiences). Envelopes with
 * a `collapseKey` go through collapse windows (core/coalescing); others cost nothing more.
 */
export function createFanOut(deps: FanOutDeps) {
  const { settings } = deps;
  const limiter = createLimiter(settings.concurrency);
  const random = deps.random ?? Math.random;
  const readPreferences: PreferenceReader = (keys) => deps.preferences.many(keys);
  const deliverDeps = {
    delivery: deps.delivery,
    limiter,
    clock: deps.clock,
    retry: settings.retry,
    random,
  };
  const coalescer =
    settings.coalescing.windowMs > 0
      ? createCoalescer({
          store: deps.collapses,
          clock: deps.clock,
          settings: settings.coalescing,
          expiresAt: (nowMs) => Math.floor(nowMs / 1000) + settings.retentionSeconds,
        })
      : undefined;

  function newReport(notification: Notification): FanOutReport {
    return {
      notificationId: notification.id,
      duplicates: 0,
      coalesced: 0,
      muted: 0,
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

  /** Pushes a publish to every live connection of one user. */
  async function pushToUser(
    userId: string,
    envelope: Envelope,
    publishedAt: number,
    attempt: number,
    report: FanOutReport,
  ): Promise<void> {
    const frame = notificationFrame(toNotification(envelope, publishedAt));
    const connections = await listUserConnections(envelope.tenant, userId);
    const result = await deliverFrame(connections, frame, deliverDeps);
    await settle(result, envelope, publishedAt, attempt, report);
  }

  /** Whether the user wants this envelope's type in-app: their settings over the tenant's. */
  async function wantsInApp(envelope: Envelope, userId: string, batch: FanOutBatch) {
    const [user, tenantDefaults] = await Promise.all([
      batch.preferences({ tenant: envelope.tenant, userId }, readPreferences),
      batch.preferences({ tenant: envelope.tenant }, readPreferences),
    ]);
    return resolveChannels(envelope.type, user, tenantDefaults).inapp;
  }

  function candidateFor(envelope: Envelope, recipient: Recipient, publishedAt: number) {
    const envelopeForSlot = slotEnvelope(envelope, recipient);
    return {
      id: toNotification(envelope, publishedAt).id,
      envelope: envelopeForSlot,
      publishedAt,
    } satisfies CollapseCandidate;
  }

  /** Sleeps until the last of the claimed windows ends, and never longer than one window. */
  async function untilEnded(windows: readonly ClaimedWindow[]): Promise<void> {
    const last = Math.max(...windows.map((window) => window.windowEnds));
    const wait = Math.min(settings.coalescing.windowMs, last - deps.clock.now());
    if (wait > 0) await deps.clock.sleep(wait);
  }

  /**
   * Finishes a claimed window: stores its latest envelope for the recipient, settles the
   * slot, then has `push` push the latest (unless it was stored before and nothing says an
   * earlier attempt may have missed the push).
   */
  async function finishWindow(
    recipient: Recipient,
    window: ClaimedWindow,
    report: FanOutReport,
    push: (latest: CollapseCandidate) => Promise<void>,
  ): Promise<void> {
    let fresh = false;
    const latest = await window.finish(async (candidate) => {
      const notification = toNotification(candidate.envelope, candidate.publishedAt);
      ({ fresh } = await deps.inbox.store(recipient, notification, expiresAt(notification)));
    });
    if (latest === undefined) {
      // Another invocation adopted the window and delivers its latest.
      report.coalesced++;
      return;
    }
    if (!fresh) {
      report.duplicates++;
      if (!window.force) return;
    }
    await push(latest);
  }

  async function toUsers(
    envelope: Envelope,
    users: string[],
    publishedAt: number,
    force: boolean,
    attempt: number,
    batch: FanOutBatch,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const frame = notificationFrame(notification);
    const report = newReport(notification);
    const failedUsers: string[] = [];
    const fail = (userId: string, error: unknown) => {
      failedUsers.push(userId);
      report.problems.push({ what: `user ${userId}`, error });
    };
    const collapseKey = coalescer && envelope.collapseKey;
    const claims: Array<{ userId: string; recipient: Recipient; window: ClaimedWindow }> = [];
    const members: Array<Promise<void>> = [];
    // Every recipient's preferences asked for at once (the store reads them 100 to a
    // request); the tenant's defaults once per batch.
    for (const userId of users) {
      batch
        .preferences({ tenant: envelope.tenant, userId }, readPreferences)
        .catch(() => undefined);
    }

    await mapLimited(users, settings.userConcurrency, async (userId) => {
      try {
        if (!(await wantsInApp(envelope, userId, batch))) {
          report.muted++;
          return;
        }
        const recipient: Recipient = { kind: 'user', tenant: envelope.tenant, userId };
        if (!coalescer || !collapseKey) {
          // The connections are read while the notification is stored: neither waits for
          // the other, and the Query is wasted only on a duplicate.
          const listing = listUserConnections(envelope.tenant, userId);
          listing.catch(() => undefined);
          const stored = await deps.inbox.store(recipient, notification, expiresAt(notification));
          // A re-published event is pushed as the notification the user already has.
          const kept = stored.notification;
          if (kept) report.notificationId = kept.id;
          if (!stored.fresh) {
            report.duplicates++;
            if (!force) return;
          }
          const connections = await listing;
          const result = await deliverFrame(
            connections,
            kept ? notificationFrame(kept) : frame,
            deliverDeps,
          );
          const keptAt = kept ? Date.parse(kept.createdAt) : publishedAt;
          await settle(result, envelope, keptAt, attempt, report);
          return;
        }
        const turn = await coalescer.offer(
          batch.collapse,
          { recipient, collapseKey },
          candidateFor(envelope, recipient, publishedAt),
          force,
        );
        switch (turn.kind) {
          case 'claimant':
            claims.push({ userId, recipient, window: turn.window });
            return;
          case 'member':
            members.push(turn.done);
            report.coalesced++;
            return;
          case 'joined':
          case 'superseded':
            report.coalesced++;
            return;
          case 'delivered':
            await pushToUser(
              userId,
              turn.latest.envelope,
              turn.latest.publishedAt,
              attempt,
              report,
            );
            return;
        }
      } catch (error) {
        fail(userId, error);
      }
    });

    if (claims.length > 0) {
      // One sleep for every window this envelope claimed: they all opened just now.
      await untilEnded(claims.map((claim) => claim.window));
      await mapLimited(claims, settings.userConcurrency, async ({ userId, recipient, window }) => {
        try {
          await finishWindow(recipient, window, report, (latest) =>
            pushToUser(userId, latest.envelope, latest.publishedAt, attempt, report),
          );
        } catch (error) {
          fail(userId, error);
        }
      });
    }

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
    // Folded into an earlier envelope of this batch: done only once that one reached the
    // slot or was delivered; otherwise this message must come back, or it would be lost.
    await Promise.all(members);
    return report;
  }

  async function postPage(
    connections: ConnectionRef[],
    envelope: Envelope,
    publishedAt: number,
    report: FanOutReport,
  ): Promise<void> {
    const frame = notificationFrame(toNotification(envelope, publishedAt));
    const result = await deliverFrame(connections, frame, deliverDeps);
    await settle(result, envelope, publishedAt, 0, report);
  }

  /**
   * Broadcasts to a topic's subscribers after `cursor` (all of them without one). Posts the
   * first page itself; when the topic goes on, it first walks the keys of up to
   * `settings.walkPages` further pages and hands each on as a task of its own, a batch at
   * a time, so that they are posted side by side instead of each waiting for the one
   * before. Whatever lies beyond goes to one more task like this one, handed on last: a
   * redelivery of this message before then re-sends pages (clients drop repeats by id) but
   * the remainder only once, so a crash never multiplies the walks that follow.
   */
  async function broadcastFrom(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    cursor: string | undefined,
    report: FanOutReport,
  ): Promise<void> {
    const { tenant } = envelope;
    const { pageSize } = settings;
    const first = await deps.connections.listForTopic(tenant, topic, { cursor, limit: pageSize });
    let rest = first.cursor;
    for (let walked = 0; rest !== undefined && walked < settings.walkPages; ) {
      const from: string = rest;
      const maxPages = Math.min(PAGES_PER_WALK, settings.walkPages - walked);
      const found = await deps.connections.topicPages(tenant, topic, {
        cursor: from,
        pageSize,
        maxPages,
      });
      await deps.continuations.enqueueMany(
        found.pages.map(
          (range): FanOutTask => ({
            kind: 'broadcast-page',
            envelope,
            publishedAt,
            cursor: range.cursor ?? from,
            until: range.until,
          }),
        ),
      );
      walked += found.pages.length;
      rest = found.rest;
    }
    await postPage(first.items, envelope, publishedAt, report);
    if (rest !== undefined) {
      await deps.continuations.enqueue({
        kind: 'broadcast-page',
        envelope,
        publishedAt,
        cursor: rest,
      });
    }
  }

  /**
   * Posts one page a walk found: the subscribers after `cursor` up to `until`. Subscribers
   * that joined inside the range since can make it longer than a page: the excess is
   * handed on, still bounded by `until`, so no invocation posts more than a page.
   */
  async function broadcastRange(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    range: { cursor: string; until: string },
    report: FanOutReport,
  ): Promise<void> {
    const page = await deps.connections.listForTopic(envelope.tenant, topic, {
      ...range,
      limit: settings.pageSize,
    });
    if (page.cursor) {
      await deps.continuations.enqueue({
        kind: 'broadcast-page',
        envelope,
        publishedAt,
        cursor: page.cursor,
        until: range.until,
      });
    }
    await postPage(page.items, envelope, publishedAt, report);
  }

  async function toTopic(
    envelope: Envelope,
    topic: string,
    publishedAt: number,
    force: boolean,
    batch: FanOutBatch,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const report = newReport(notification);
    const recipient: Recipient = { kind: 'topic', tenant: envelope.tenant, topic };
    const collapseKey = coalescer && envelope.collapseKey;
    if (!coalescer || !collapseKey) {
      const { fresh } = await deps.inbox.store(recipient, notification, expiresAt(notification));
      if (!fresh) {
        report.duplicates++;
        if (!force) return report;
      }
      await broadcastFrom(envelope, topic, publishedAt, undefined, report);
      return report;
    }
    const turn = await coalescer.offer(
      batch.collapse,
      { recipient, collapseKey },
      candidateFor(envelope, recipient, publishedAt),
      force,
    );
    switch (turn.kind) {
      case 'claimant':
        await untilEnded([turn.window]);
        await finishWindow(recipient, turn.window, report, (latest) =>
          broadcastFrom(latest.envelope, topic, latest.publishedAt, undefined, report),
        );
        break;
      case 'member':
        report.coalesced++;
        await turn.done;
        break;
      case 'joined':
      case 'superseded':
        report.coalesced++;
        break;
      case 'delivered':
        await broadcastFrom(
          turn.latest.envelope,
          topic,
          turn.latest.publishedAt,
          undefined,
          report,
        );
        break;
    }
    return report;
  }

  return {
    /** Handles one published envelope. */
    async publish(envelope: Envelope, arrival: Arrival): Promise<FanOutReport> {
      if (!envelope.channels.includes('inapp')) {
        return newReport(toNotification(envelope, arrival.publishedAt));
      }
      // A re-published id takes its first publish time, hence its first notification id.
      // For users the inbox recognises the event on the write that counts it; topics, and
      // envelopes that may be coalesced into another's notification, need the ledger.
      // Coalesced envelopes are recorded too, so re-publishing any of them changes nothing.
      const byInbox = 'users' in envelope.to && !(coalescer && envelope.collapseKey);
      const publishedAt = byInbox
        ? arrival.publishedAt
        : await deps.ledger.firstPublished(
            envelope.tenant,
            envelope.id,
            arrival.publishedAt,
            Math.floor(arrival.publishedAt / 1000) + settings.retentionSeconds,
          );
      const batch = arrival.batch ?? new FanOutBatch();
      if ('users' in envelope.to) {
        return toUsers(envelope, envelope.to.users, publishedAt, arrival.redelivered, 0, batch);
      }
      return toTopic(envelope, envelope.to.topic, publishedAt, arrival.redelivered, batch);
    },

    /** Handles work an earlier invocation handed on. */
    async run(task: FanOutTask, batch = new FanOutBatch()): Promise<FanOutReport> {
      const { envelope, publishedAt } = task;
      switch (task.kind) {
        case 'retry-users': {
          const users = 'users' in envelope.to ? envelope.to.users : [];
          return toUsers(envelope, users, publishedAt, true, task.attempt, batch);
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
          const { topic } = envelope.to;
          const { cursor, until } = task;
          if (until === undefined) {
            await broadcastFrom(envelope, topic, publishedAt, cursor, report);
          } else {
            await broadcastRange(envelope, topic, publishedAt, { cursor, until }, report);
          }
          return report;
        }
      }
    },
  };
}

export type FanOut = ReturnType<typeof createFanOut>;
