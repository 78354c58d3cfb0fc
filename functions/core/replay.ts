import { DEFAULT_RETRY, deliverFrame, type RetryPolicy } from './deliver';
import { HeraldError, RetryableError } from './errors';
import { notificationFrame } from './frames';
import { createLimiter, mapLimited } from './limiter';
import type { Recipient } from './model';
import { lowestIdAt, notificationTime } from './notification-id';
import type { Clock, Delivery, ReplaySource, StoredNotification } from './ports';

export interface ReplaySettings {
  /** How long notifications are kept: a cursor older than this may have lost what followed it. */
  retentionSeconds: number;
  /** Most notifications one `resume` replays; the client resumes again from the last one. */
  maxItems: number;
  /** Notifications read per query of one recipient's history. */
  pageSize: number;
  /**
   * Time one `resume` may spend pushing before it stops with `more: true`, well inside
   * the Lambda's timeout and API Gateway's 29 s integration limit.
   */
  budgetMs: number;
  /** Histories (the user's and each subscribed topic's) read in parallel. */
  sourceConcurrency: number;
  retry: RetryPolicy;
  /**
   * How long after its publish a notification may still be filed: a batch retried after
   * its visibility timeouts, a split task queued behind others. Ids sort by publish time,
   * so such a late one can sort before the cursor of a client that was offline when it was
   * filed; a resume reads this far back before its cursor to find them.
   */
  lookbackSeconds: number;
  /**
   * How long a filed notification may take to reach the connections it is pushed to (one
   * fan-out invocation). A client holding the cursor may have been gone before one filed up
   * to this long before the cursor's own reached it: those are replayed too.
   */
  deliveryMarginSeconds: number;
}

export const DEFAULT_REPLAY_SETTINGS: ReplaySettings = {
  retentionSeconds: 90 * 24 * 3600,
  maxItems: 1000,
  pageSize: 100,
  budgetMs: 5000,
  sourceConcurrency: 8,
  retry: DEFAULT_RETRY,
  // Five receives of a 180 s visibility timeout, and room for split tasks queued behind them.
  lookbackSeconds: 3600,
  // Twice the fan-out's 30 s timeout.
  deliveryMarginSeconds: 60,
};

export interface ReplayDeps {
  source: ReplaySource;
  delivery: Delivery;
  clock: Clock;
  settings: ReplaySettings;
  random?: () => number;
}

export interface ResumeRequest {
  tenant: string;
  userId: string;
  /** The connection the replay goes to. */
  connectionId: string;
  /** Topics the connection is subscribed to: their histories are replayed too. */
  topics: string[];
  /** The client's cursor: the newest notification id it has. */
  since: string;
  /**
   * Where an earlier round of this resume stopped (its reply's `last`): the replay goes on
   * from there with the same cursor, rather than looking back from `last` again.
   */
  after?: string;
}

export interface ResumeResult {
  replayed: number;
  /** True when the replay stopped at its cap: resume again, the same `since` and `after: last`. */
  more: boolean;
  /**
   * The id of the last notification the replay went past (replayed, or skipped as one the
   * client has), when any: where a further round continues. Live pushes arriving meanwhile
   * may carry newer ids than this.
   */
  last?: string;
}

export const RESUME_GAP_CODE = 'resume_gap';

/**
 * The cursor cannot be resumed from (malformed, older than retention, or not one of the
 * caller's notifications): what followed it cannot be told, so the client must reload.
 */
export class ResumeGapError extends HeraldError {
  override name = 'ResumeGapError';
  constructor(reason: string) {
    super(
      RESUME_GAP_CODE,
      `cannot resume: ${reason}; reload from the HTTP API (GET /notifications), then resume from its newest id`,
    );
  }
}

/** One recipient's history, read forwards a page at a time as the merge consumes it. */
class History {
  private buffer: StoredNotification[] = [];
  private exhausted = false;

  constructor(
    private readonly source: ReplaySource,
    readonly recipient: Recipient,
    private after: string,
    private readonly pageSize: number,
  ) {}

  async head(): Promise<StoredNotification | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) {
      const page = await this.source.after(this.recipient, this.after, this.pageSize);
      this.exhausted = page.length < this.pageSize;
      this.buffer = page;
      const last = page.at(-1);
      if (last !== undefined) this.after = last.notification.id;
    }
    return this.buffer[0];
  }

  shift(): void {
    this.buffer.shift();
  }
}

/**
 * `resume`: replays to one connection every notification the client missed, oldest first,
 * from the user's inbox and the connection's topics merged by id. Missed means filed after
 * the client's cursor: every id after it, and, within the look-back, an older id filed late
 * (after the cursor's own was filed, less the delivery margin). Each is pushed through the
 * management API and awaited before the next, so they arrive in order; the reply (the route
 * response) follows them.
 */
export function createReplay(deps: ReplayDeps) {
  const { settings } = deps;
  const random = deps.random ?? Math.random;

  /** When the cursor's notification was filed; refuses a cursor it cannot resume from. */
  async function cursorFiledAt(request: ResumeRequest, recipients: Recipient[]): Promise<number> {
    const time = notificationTime(request.since);
    if (time === undefined) throw new ResumeGapError('"since" is not a notification id');
    if (time < deps.clock.now() - settings.retentionSeconds * 1000) {
      throw new ResumeGapError('"since" is older than the retention period');
    }
    // The user's inbox first: that is where nearly every cursor comes from.
    const [user, ...topics] = recipients;
    const own = user === undefined ? undefined : await deps.source.storedAt(user, request.since);
    if (own !== undefined) return own;
    const found = await mapLimited(topics, settings.sourceConcurrency, (recipient) =>
      deps.source.storedAt(recipient, request.since),
    );
    const filedAt = found.find((at) => at !== undefined);
    if (filedAt === undefined) throw new ResumeGapError('"since" is not a notification of yours');
    return filedAt;
  }

  return {
    async resume(request: ResumeRequest): Promise<ResumeResult> {
      const { tenant, userId, connectionId, since } = request;
      const recipients: Recipient[] = [
        { kind: 'user', tenant, userId },
        ...[...new Set(request.topics)].map(
          (topic): Recipient => ({ kind: 'topic', tenant, topic }),
        ),
      ];
      const filedAt = await cursorFiledAt(request, recipients);
      const filedFrom = filedAt - settings.deliveryMarginSeconds * 1000;
      const missed = ({ notification: { id }, storedAt }: StoredNotification): boolean =>
        id > since || (id !== since && storedAt >= filedFrom);
      const lookedBack = lowestIdAt(
        (notificationTime(since) ?? 0) - settings.lookbackSeconds * 1000,
      );
      const from =
        request.after !== undefined && request.after > lookedBack ? request.after : lookedBack;

      const started = deps.clock.now();
      const histories = recipients.map(
        (recipient) => new History(deps.source, recipient, from, settings.pageSize),
      );
      // One connection, one post at a time: order is the point.
      const deliverDeps = {
        delivery: deps.delivery,
        limiter: createLimiter(1),
        clock: deps.clock,
        retry: settings.retry,
        random,
      };
      const target = [{ connectionId, userId }];
      let replayed = 0;
      let last: string | undefined;
      const done = (more: boolean): ResumeResult =>
        last === undefined ? { replayed, more } : { replayed, more, last };
      for (;;) {
        const heads = await mapLimited(histories, settings.sourceConcurrency, (h) => h.head());
        let next: StoredNotification | undefined;
        for (const head of heads) {
          if (head && (!next || head.notification.id < next.notification.id)) next = head;
        }
        if (next === undefined) return done(false);
        // Skipping counts as progress: a long look-back of ones the client has stops in time too.
        const outOfTime = last !== undefined && deps.clock.now() - started >= settings.budgetMs;
        if (replayed >= settings.maxItems || outOfTime) return done(true);
        const { notification } = next;
        // A notification in two histories (it cannot be, but cheaply guarded) goes out once.
        for (const [index, head] of heads.entries()) {
          if (head?.notification.id === notification.id) histories[index]?.shift();
        }
        if (!missed(next)) {
          // The cursor itself is where the client is, not a step past it.
          if (notification.id !== since) last = notification.id;
          continue;
        }
        const result = await deliverFrame(target, notificationFrame(notification), deliverDeps);
        // A gone connection hears nothing more, not even the reply: stop quietly.
        if (result.gone.length > 0) return done(true);
        if (result.failed.length > 0) {
          throw new RetryableError(
            `replay interrupted after ${replayed} notification(s): resume again from the last id received`,
          );
        }
        replayed++;
        last = notification.id;
      }
    },
  };
}

export type Replay = ReturnType<typeof createReplay>;
