/**
 * Snooze as a use case: `POST /notifications/{id}/snooze {"until": ISO}` hides a
 * notification until then, `POST /notifications/{id}/unsnooze` brings it back at once. The
 * wake-up (`./snooze-sweep.ts`) brings it back when the time comes. Either way it returns
 * unread and unseen, is pushed again to every live connection of its user, and their
 * counts follow.
 */
import { BadRequestError, NotFoundError } from './errors';
import { notificationFrame } from './frames';
import type { InboxCounts, Notification } from './model';
import { isNotificationId } from './notification-id';
import type { Clock } from './ports';
import type { Pusher } from './push';
import type { SnoozeInbox } from './snooze-ports';
import type { SnoozeOwner } from './snooze-sweep';

export const SNOOZE_LIMITS = {
  /** The furthest a snooze may reach. */
  maxDays: 90,
} as const;

const DAY_MS = 24 * 3600 * 1000;

/** An ISO 8601 time with its offset, as `Date.prototype.toISOString` and most clients write it. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** What the user's inbox does besides snooze: counts announced on every live connection. */
export interface CountAnnouncer {
  announceState(owner: SnoozeOwner): Promise<InboxCounts>;
  /** Whether the notification is in the user's inbox (snoozed, archived or not). */
  get(owner: SnoozeOwner, id: string): Promise<unknown>;
}

/**
 * Tells every live connection of the user of notifications that came back: each as a
 * `notification` frame, then one `state` frame with the counts that include them.
 */
export function createWakeAnnouncer(deps: {
  pusher: Pick<Pusher, 'pushToUser'>;
  inbox: Pick<CountAnnouncer, 'announceState'>;
}) {
  return async (owner: SnoozeOwner, woken: Notification[]): Promise<InboxCounts> => {
    for (const notification of woken) {
      await deps.pusher.pushToUser(owner.tenant, owner.userId, notificationFrame(notification));
    }
    return deps.inbox.announceState(owner);
  };
}

export interface SnoozeServiceDeps {
  snoozes: SnoozeInbox;
  inbox: CountAnnouncer;
  pusher: Pick<Pusher, 'pushToUser'>;
  clock: Clock;
}

export interface SnoozeResult extends InboxCounts {
  snoozedUntil: string;
}

export type SnoozeService = ReturnType<typeof createSnoozeService>;

export function createSnoozeService(deps: SnoozeServiceDeps) {
  const announceWoken = createWakeAnnouncer(deps);

  function requireId(id: string): string {
    if (!isNotificationId(id)) throw new BadRequestError('not a notification id');
    return id;
  }

  return {
    /** Hides the notification until `body.until`, or moves its snooze there. */
    async snooze(owner: SnoozeOwner, id: string, body: unknown): Promise<SnoozeResult> {
      requireId(id);
      const until = parseUntil(body, deps.clock.now());
      const outcome = await deps.snoozes.snooze(owner.tenant, owner.userId, id, until);
      if (outcome.kind === 'missing') throw new NotFoundError('notification not found');
      if (outcome.kind === 'archived') {
        throw new BadRequestError('an archived notification cannot be snoozed: unarchive it first');
      }
      if (outcome.kind === 'expires-first') {
        const expires = new Date(outcome.expiresAt * 1000).toISOString();
        throw new BadRequestError(`until must be before the notification expires (${expires})`);
      }
      return { snoozedUntil: until, ...(await deps.inbox.announceState(owner)) };
    },

    /** Brings a snoozed notification back now; one not snoozed is left as it is. */
    async unsnooze(owner: SnoozeOwner, id: string): Promise<InboxCounts> {
      requireId(id);
      const woken = await deps.snoozes.wake(owner.tenant, owner.userId, id);
      if (woken !== undefined) return announceWoken(owner, [woken]);
      // Nothing changed: say so only when there is nothing to change.
      await deps.inbox.get(owner, id);
      return deps.inbox.announceState(owner);
    },
  };
}

/** `{"until": ISO}`: a time with its offset, in the future, at most 90 days away (normalized to UTC). */
export function parseUntil(body: unknown, nowMs: number): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('body must be an object: {"until": "<ISO time>"}');
  }
  const { until, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new BadRequestError(`unknown field: ${unknown[0]}`);
  if (typeof until !== 'string' || !ISO_TIME.test(until) || Number.isNaN(Date.parse(until))) {
    throw new BadRequestError(
      'until must be an ISO 8601 time with an offset, e.g. "2026-12-01T09:00:00Z"',
    );
  }
  const at = Date.parse(until);
  if (at <= nowMs) throw new BadRequestError('until must be in the future');
  if (at > nowMs + SNOOZE_LIMITS.maxDays * DAY_MS) {
    throw new BadRequestError(`until must be at most ${SNOOZE_LIMITS.maxDays} days away`);
  }
  return new Date(at).toISOString();
}
