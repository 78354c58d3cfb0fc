import { DEFAULT_RETRY, deliverFrame, type RetryPolicy } from './deliver';
import { HeraldError, RetryableError } from './errors';
import { notificationFrame } from './frames';
import { createLimiter, mapLimited } from './limiter';
import type { Notification, Recipient } from './model';
import { notificationTime } from './notification-id';
import type { Clock, Delivery, ReplaySource } from './ports';

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
}

export const DEFAULT_REPLAY_SETTINGS: ReplaySettings = {
  retentionSeconds: 90 * 24 * 3600,
  maxItems: 1000,
  pageSize: 100,
  budgetMs: 5000,
  sourceConcurrency: 8,
  retry: DEFAULT_RETRY,
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
  /** The last notification id the client has. */
  since: string;
}

export interface ResumeResult {
  replayed: number;
  /** True when the replay stopped at its cap: resume again from `last`. */
  more: boolean;
  /**
   * The id of the last notification replayed, when any was: where a further `resume`
   * continues (live pushes arriving meanwhile may carry newer ids than this).
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
  private buffer: Notification[] = [];
  private exhausted = false;

  constructor(
    private readonly source: ReplaySource,
    readonly recipient: Recipient,
    private after: string,
    private readonly pageSize: number,
  ) {}

  async head(): Promise<Notification | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) {
      const page = await this.source.after(this.recipient, this.after, this.pageSize);
      this.exhausted = page.length < this.pageSize;
      this.buffer = page;
      const last = page.at(-1);
      if (last !== undefined) this.after = last.id;
    }
    return this.buffer[0];
  }

  shift(): void {
    this.buffer.shift();
  }
}

/**
 * `resume`: replays to one connection every notification stored after the client's last
 * id, oldest first, from the user's inbox and the connection's topics merged by id. Each
 * is pushed through the management API and awaited before the next, so they arrive in
 * order; the reply (the route response) follows them.
 */
export function createReplay(deps: ReplayDeps) {
  const { settings } = deps;
  const random = deps.random ?? Math.random;

  async function check(request: ResumeRequest, recipients: Recipient[]): Promise<void> {
    const time = notificationTime(request.since);
    if (time === undefined) throw new ResumeGapError('"since" is not a notification id');
    if (time < deps.clock.now() - settings.retentionSeconds * 1000) {
      throw new ResumeGapError('"since" is older than the retention period');
    }
    // The user's inbox first: that is where nearly every cursor comes from.
    const [user, ...topics] = recipients;
    if (user !== undefined && (await deps.source.has(user, request.since))) return;
    const found = await mapLimited(topics, settings.sourceConcurrency, (recipient) =>
      deps.source.has(recipient, request.since),
    );
    if (!found.includes(true)) throw new ResumeGapError('"since" is not a notification of yours');
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
      await check(request, recipients);

      const started = deps.clock.now();
      const histories = recipients.map(
        (recipient) => new History(deps.source, recipient, since, settings.pageSize),
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
        let next: Notification | undefined;
        for (const head of heads) if (head && (!next || head.id < next.id)) next = head;
        if (next === undefined) return done(false);
        const outOfTime = replayed > 0 && deps.clock.now() - started >= settings.budgetMs;
        if (replayed >= settings.maxItems || outOfTime) return done(true);
        // A notification in two histories (it cannot be, but cheaply guarded) goes out once.
        for (const [index, head] of heads.entries()) {
          if (head?.id === next.id) histories[index]?.shift();
        }
        const result = await deliverFrame(target, notificationFrame(next), deliverDeps);
        // A gone connection hears nothing more, not even the reply: stop quietly.
        if (result.gone.length > 0) return done(true);
        if (result.failed.length > 0) {
          throw new RetryableError(
            `replay interrupted after ${replayed} notification(s): resume again from the last id received`,
          );
        }
        replayed++;
        last = next.id;
      }
    },
  };
}

export type Replay = ReturnType<typeof createReplay>;
