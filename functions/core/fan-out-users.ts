/**
 * Delivering an envelope to the users it names: each user's preferences decide whether it
 * goes in-app at all; then it is stored in their inbox (the write doubles as the
 * idempotency check: the fan-out gave a re-published id its first notification id) and pushed to their live connections, or, with a `collapseKey`, goes
 * through their collapse window. Users whose store or window failed are retried by a task
 * of their own.
 */
import type { ClaimedWindow } from './coalescing';
import { listAllForUser } from './connections';
import { toNotification } from './envelope';
import type { FanOutBatch, PreferenceReader } from './fan-out-batch';
import { type FanOutPush, retryTaskDelaySeconds } from './fan-out-push';
import { type FanOutReport, newReport } from './fan-out-report';
import { type FanOutSettings, notificationExpiresAt } from './fan-out-settings';
import { type FanOutWindows, followTurn } from './fan-out-windows';
import { notificationFrame } from './frames';
import { mapLimited } from './limiter';
import type { Envelope, Notification, Recipient } from './model';
import type {
  CollapseCandidate,
  ConnectionStore,
  Continuations,
  FanOutInbox,
  PreferenceStore,
} from './ports';
import { resolveChannels } from './preferences';

export interface UserDeliveryDeps {
  connections: Pick<ConnectionStore, 'listForUser'>;
  inbox: FanOutInbox;
  preferences: Pick<PreferenceStore, 'many'>;
  continuations: Continuations;
  push: FanOutPush;
  /** Absent when coalescing is off. */
  windows: FanOutWindows | undefined;
  settings: Pick<FanOutSettings, 'userConcurrency' | 'maxTaskAttempts' | 'retentionSeconds'>;
  random: () => number;
}

export interface ToUsersOptions {
  /**
   * Push also to users who have the notification stored already: this message was received
   * before (or is a retry), and an earlier attempt may have stored without pushing.
   */
  force: boolean;
  /** Which retry task this is: 0 for the publish itself. */
  attempt: number;
  batch: FanOutBatch;
}

/** One envelope's dispatch to its users, as it goes. */
interface Dispatch {
  envelope: Envelope;
  publishedAt: number;
  notification: Notification;
  /** Encoded once for every user. */
  frame: string;
  options: ToUsersOptions;
  report: FanOutReport;
  /** Windows claimed for users, to finish once they end. */
  claims: Array<{ userId: string; window: ClaimedWindow }>;
  /** Outcomes of the batch's earlier envelopes this one was folded into. */
  members: Array<Promise<void>>;
  /** Users whose store or window failed, for a retry task. */
  failed: string[];
}

export function createUserDelivery(deps: UserDeliveryDeps) {
  const { settings, windows } = deps;
  const readPreferences: PreferenceReader = (keys) => deps.preferences.many(keys);

  /** Whether the user wants this envelope's type in-app: their settings over the tenant's. */
  async function wantsInApp(envelope: Envelope, userId: string, batch: FanOutBatch) {
    const [user, tenantDefaults] = await Promise.all([
      batch.preferences({ tenant: envelope.tenant, userId }, readPreferences),
      batch.preferences({ tenant: envelope.tenant }, readPreferences),
    ]);
    return resolveChannels(envelope.type, user, tenantDefaults).inapp;
  }

  function fail(dispatch: Dispatch, userId: string, error: unknown): void {
    dispatch.failed.push(userId);
    dispatch.report.problems.push({ what: `user ${userId}`, error });
  }

  /** Pushes a window's latest envelope to every live connection of one user. */
  function pushLatest(dispatch: Dispatch, userId: string, latest: CollapseCandidate) {
    const { envelope, publishedAt } = latest;
    const source = { envelope, publishedAt, attempt: dispatch.options.attempt };
    return deps.push.toUser(userId, source, dispatch.report);
  }

  /** Stores the notification for a user and pushes it, unless they had it and nothing forces. */
  async function storeAndPush(dispatch: Dispatch, userId: string): Promise<void> {
    const { envelope, notification, report } = dispatch;
    const recipient: Recipient = { kind: 'user', tenant: envelope.tenant, userId };
    // The connections are read while the notification is stored: neither waits for the
    // other, and the Query is wasted only on a duplicate.
    const listing = listAllForUser(deps.connections, envelope.tenant, userId);
    listing.catch(() => undefined);
    const expiresAt = notificationExpiresAt(notification, settings);
    const { fresh } = await deps.inbox.store(recipient, notification, expiresAt);
    if (!fresh) {
      report.duplicates++;
      if (!dispatch.options.force) return;
    }
    const source = {
      envelope,
      publishedAt: dispatch.publishedAt,
      attempt: dispatch.options.attempt,
    };
    await deps.push.toConnections(await listing, dispatch.frame, source, report);
  }

  /** Delivers to one user: nothing when muted, else straight away or through their window. */
  async function toUser(dispatch: Dispatch, userId: string): Promise<void> {
    const { envelope, publishedAt, options, report } = dispatch;
    if (!(await wantsInApp(envelope, userId, options.batch))) {
      report.muted++;
      return;
    }
    const collapseKey = windows && envelope.collapseKey;
    if (!windows || !collapseKey) return storeAndPush(dispatch, userId);
    const recipient: Recipient = { kind: 'user', tenant: envelope.tenant, userId };
    const turn = await windows.offer(
      { recipient, collapseKey },
      { envelope, publishedAt },
      options,
    );
    await followTurn(turn, report, {
      claimant: (window) => {
        dispatch.claims.push({ userId, window });
      },
      member: (done) => {
        dispatch.members.push(done);
      },
      delivered: (latest) => pushLatest(dispatch, userId, latest),
    });
  }

  /** One wait for every window this envelope claimed (they opened together), then each finished. */
  async function finishClaims(dispatch: Dispatch): Promise<void> {
    const { claims } = dispatch;
    if (!windows || claims.length === 0) return;
    await windows.untilEnded(claims.map((claim) => claim.window));
    await mapLimited(claims, settings.userConcurrency, ({ userId, window }) =>
      windows
        .finish(window, dispatch.report, (latest) => pushLatest(dispatch, userId, latest))
        .catch((error: unknown) => fail(dispatch, userId, error)),
    );
  }

  /** Hands failed users to a retry task, which pushes even where the store went through. */
  async function retryFailed(dispatch: Dispatch): Promise<void> {
    const { envelope, publishedAt, options, report, failed: users } = dispatch;
    if (options.attempt >= settings.maxTaskAttempts) {
      throw new AggregateError(
        report.problems.map((problem) => problem.error),
        `fan-out to ${users.length} user(s) kept failing`,
      );
    }
    const attempt = options.attempt + 1;
    await deps.continuations.enqueue(
      { kind: 'retry-users', envelope: { ...envelope, to: { users } }, publishedAt, attempt },
      retryTaskDelaySeconds(attempt, deps.random),
    );
  }

  /**
   * Asks for every recipient's preferences at once (the store reads them 100 to a request,
   * the tenant's defaults once per batch). Records of one batch gather their keys into one
   * read only if they ask in the same turn of the event loop, so a caller that must await
   * something first (the ledger) asks before it awaits. Asking again is a cache hit.
   */
  function askPreferences(envelope: Envelope, users: readonly string[], batch: FanOutBatch) {
    for (const userId of users) {
      batch
        .preferences({ tenant: envelope.tenant, userId }, readPreferences)
        .catch(() => undefined);
    }
  }

  async function toUsers(
    envelope: Envelope,
    users: readonly string[],
    publishedAt: number,
    options: ToUsersOptions,
  ): Promise<FanOutReport> {
    const notification = toNotification(envelope, publishedAt);
    const dispatch: Dispatch = {
      envelope,
      publishedAt,
      notification,
      frame: notificationFrame(notification),
      options,
      report: newReport(notification.id),
      claims: [],
      members: [],
      failed: [],
    };
    askPreferences(envelope, users, options.batch);
    await mapLimited(users, settings.userConcurrency, (userId) =>
      toUser(dispatch, userId).catch((error: unknown) => fail(dispatch, userId, error)),
    );
    await finishClaims(dispatch);
    if (dispatch.failed.length > 0) await retryFailed(dispatch);
    // Folded into an earlier envelope of this batch: done only once that one reached the
    // slot or was delivered; otherwise this message must come back, or it would be lost.
    await Promise.all(dispatch.members);
    return dispatch.report;
  }

  return { toUsers, askPreferences };
}

export type UserDelivery = ReturnType<typeof createUserDelivery>;
