/**
 * Nothing missed, nothing twice: the client tracks the newest notification id (the resume
 * cursor), drops notifications it has already emitted, and after a reconnect replays what
 * it missed with `resume` rounds, holding live pushes meanwhile so listeners see every
 * notification once, in id order.
 */
import type { ErrorBody } from '../functions/core/frames';
import type { Notification } from '../functions/core/model';
import type { EventSink } from './emitter';
import { isRecord } from './frames';
import { HeraldRequestError, type RequestResult } from './request-table';

export interface ResumeOutcome {
  /** Notifications the server replayed (duplicates of ones already seen are not emitted). */
  replayed: number;
}

/** The events of notifications and resuming (part of `HeraldClientEvents`). */
export interface ResumeEvents {
  notification: Notification;
  /**
   * A resume was refused (`resume_gap`): what was missed cannot be replayed (the cursor is
   * older than the retention, or unknown). Reload from the HTTP API (`GET /notifications`),
   * then call `resume(newestIdFromThatList)` to catch up on anything since.
   */
  gap: ErrorBody;
  /** A resume finished and everything it brought has been emitted: the client caught up. */
  resumed: ResumeOutcome;
  /** A resume after a reconnect failed for another reason than a gap or a lost socket. */
  error: ErrorBody;
}

/** A `resume` frame's arguments: a notification cursor, a change cursor, or both. */
export interface ResumeArgs {
  since?: string;
  after?: string;
  changesSince?: string;
}

export interface ResumeDeps {
  /** Sends a request on the active socket (waiting for one while reconnecting). */
  request(action: 'resume', args: ResumeArgs): Promise<RequestResult>;
  /** The newest change id seen: the reply reports kinds changed since (else since `since`). */
  changeCursor(): string | undefined;
  /** Hands on the reply's `changes` (the kinds that changed while the client was away). */
  changes(changes: unknown): void;
  events: EventSink<ResumeEvents>;
  /** How many recent notification ids are remembered to drop duplicates. */
  recentIdsLimit: number;
}

/** Resumes in a row (each replays up to the server's cap) before the client stops asking. */
const MAX_RESUME_ROUNDS = 20;
const RESUME_GAP = 'resume_gap';
/** Codes after which there is nothing to report: the next connection resumes again. */
const QUIET_RESUME_FAILURES = new Set(['connection_closed', 'client_closed', 'not_connected']);

/** The ids seen lately, at most `limit`: the oldest is forgotten first. */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly limit: number) {}

  /** Remembers `id`; false when it was already remembered (a duplicate). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }
}

export class ResumeTracker {
  private readonly recentIds: RecentIds;
  private newestId: string | undefined;
  /** Notifications held back while a resume runs, to be emitted in id order after it. */
  private held: Record<string, unknown>[] | undefined;
  private resuming: Promise<ResumeOutcome> | undefined;

  constructor(private readonly deps: ResumeDeps) {
    this.recentIds = new RecentIds(deps.recentIdsLimit);
  }

  /** The newest notification id seen: the cursor for a later `resume`. */
  get lastId(): string | undefined {
    return this.newestId;
  }

  /**
   * Replays every notification after `since` (by default the last one seen), oldest first;
   * pushes that arrive meanwhile are held and follow them. A refused cursor emits `gap` and
   * rejects with code `resume_gap`.
   */
  resume(
    since: string | undefined = this.newestId,
    changesSince: string | undefined = this.deps.changeCursor(),
  ): Promise<ResumeOutcome> {
    if (since === undefined && changesSince === undefined) return Promise.resolve({ replayed: 0 });
    this.held ??= [];
    this.resuming ??= this.replay(since, changesSince)
      .finally(() => {
        this.resuming = undefined;
        this.release();
      })
      .then((outcome) => {
        this.deps.events.emit('resumed', outcome);
        return outcome;
      });
    return this.resuming;
  }

  /**
   * A socket took over from none (a first connect, or after a loss). The cursor is taken
   * now and pushes are held from now, before any frame of that socket can move it; once
   * `restoreTopics` is done (so the resume covers the topics too) the client resumes.
   */
  connected(restoreTopics: () => Promise<unknown>): void {
    const since = this.newestId;
    // Taken now too: changes pushed to the new socket must not hide those missed before.
    const changesSince = this.deps.changeCursor();
    if (since !== undefined) this.held ??= [];
    void restoreTopics().then(() => this.resumeAfterReconnect(since, changesSince));
  }

  /** A pushed or replayed notification: emitted unless held or already seen. */
  receive(notification: unknown): void {
    if (!isRecord(notification) || typeof notification.id !== 'string') return;
    if (this.held !== undefined) {
      this.held.push(notification);
      return;
    }
    const { id } = notification;
    // The fan-out may push twice after a retry, and a rotation briefly has two sockets.
    if (!this.recentIds.add(id)) return;
    if (this.newestId === undefined || id > this.newestId) this.newestId = id;
    this.deps.events.emit('notification', notification as unknown as Notification);
  }

  /** The client closed: what is held is dropped; the next connection resumes from the cursor. */
  stop(): void {
    this.held = undefined;
  }

  private async replay(
    since: string | undefined,
    changesSince: string | undefined,
  ): Promise<ResumeOutcome> {
    // Every round keeps the cursor (the server looks back from it for late-filed ones) and
    // goes on from where the previous round stopped. Changes come with the first round.
    let after: string | undefined;
    let replayed = 0;
    for (let round = 0; round < MAX_RESUME_ROUNDS; round++) {
      let result: RequestResult;
      const args: ResumeArgs = {};
      if (since !== undefined) args.since = since;
      if (after !== undefined) args.after = after;
      else if (changesSince !== undefined) args.changesSince = changesSince;
      try {
        result = await this.deps.request('resume', args);
      } catch (error) {
        if (error instanceof HeraldRequestError && error.code === RESUME_GAP) {
          // An unusable cursor would be refused again after every reconnect.
          if (this.newestId === since) this.newestId = undefined;
          this.deps.events.emit('gap', { code: error.code, message: error.message });
        }
        throw error;
      }
      if (typeof result.replayed === 'number') replayed += result.replayed;
      if (after === undefined) this.deps.changes(result.changes);
      if (result.more !== true || typeof result.last !== 'string') break;
      after = result.last;
    }
    return { replayed };
  }

  private async resumeAfterReconnect(
    since: string | undefined,
    changesSince: string | undefined,
  ): Promise<void> {
    if (since === undefined && changesSince === undefined) {
      this.release();
      return;
    }
    try {
      await this.resume(since, changesSince);
    } catch (error) {
      const { code, message } =
        error instanceof HeraldRequestError ? error : { code: 'unknown', message: String(error) };
      // A gap has its own event; a lost socket resumes again on the next one.
      if (code !== RESUME_GAP && !QUIET_RESUME_FAILURES.has(code)) {
        this.deps.events.emit('error', { code, message: `could not resume: ${message}` });
      }
    }
  }

  /** Emits what was held during a resume, oldest first. */
  private release(): void {
    if (this.resuming !== undefined) return;
    const held = this.held ?? [];
    this.held = undefined;
    held.sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    for (const notification of held) this.receive(notification);
  }
}
