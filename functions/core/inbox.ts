/**
 * The user's inbox as a use case: list, the flags (read, seen, archived, interacted),
 * deletion, and the unread and unseen counts, shared by the HTTP API and the socket's
 * `markRead`/`state`. Every change is announced to every live connection of the user as a
 * `state` frame (`stateFrame`), so a badge on one device follows a click on another.
 *
 * `seen` is apart from `read`: the bell counts unseen and opening the feed clears it
 * (`markAllSeen`); an item stays unread until it is read.
 */
import { DEFAULT_RETRY, type RetryPolicy } from './deliver';
import { BadRequestError, NotFoundError } from './errors';
import { stateFrame } from './frames';
import { createLimiter, type Limiter } from './limiter';
import type { Identity, InboxCounts, Notification, Page } from './model';
import { isNotificationId } from './notification-id';
import type {
  Clock,
  ConnectionStore,
  Delivery,
  FlagChange,
  InboxChange,
  OwnerInbox,
} from './ports';
import { createPusher, type Problem } from './push';

export interface InboxSettings {
  /** State posts in flight at once (size the management client's sockets alike). */
  concurrency: number;
  retry: RetryPolicy;
  /** Most ids one `markRead` takes. */
  maxIds: number;
  /** Largest page `list` serves. */
  maxLimit: number;
}

export const DEFAULT_INBOX_SETTINGS: InboxSettings = {
  concurrency: 16,
  retry: DEFAULT_RETRY,
  maxIds: 100,
  maxLimit: 100,
};

export interface InboxServiceDeps {
  inbox: OwnerInbox;
  connections: ConnectionStore;
  delivery: Delivery;
  clock: Clock;
  settings?: Partial<InboxSettings>;
  /** Shared with whatever else the container posts, to bound posts in flight overall. */
  limiter?: Limiter;
  random?: () => number;
  /** Told of a state push that failed; the change itself stands and the call still succeeds. */
  onPushProblem?: (problem: Problem) => void;
}

/** Whose inbox: the verified caller's own tenant and user, never an id from a request. */
export type InboxOwner = Pick<Identity, 'tenant' | 'userId'>;

export interface ListRequest {
  limit: number;
  cursor?: string;
  unreadOnly?: boolean;
}

/** The counts after a change: what every answer of a change carries. */
export type UnreadState = InboxCounts;

export interface MarkReadResult extends UnreadState {
  /** Ids that are not in the caller's inbox (never there, deleted, expired, or another's). */
  notFound: string[];
}

export type InboxService = ReturnType<typeof createInboxService>;

export function createInboxService(deps: InboxServiceDeps) {
  const settings = { ...DEFAULT_INBOX_SETTINGS, ...deps.settings };
  const pusher = createPusher({
    connections: deps.connections,
    delivery: deps.delivery,
    limiter: deps.limiter ?? createLimiter(settings.concurrency),
    clock: deps.clock,
    retry: settings.retry,
    random: deps.random,
    pruneConcurrency: settings.concurrency,
  });
  const report = deps.onPushProblem ?? (() => undefined);

  function requireId(id: string): string {
    if (!isNotificationId(id)) throw new BadRequestError('not a notification id');
    return id;
  }

  /** Best effort: a failed push never fails the change; the client can ask for `state`. */
  async function announce(owner: InboxOwner, counts: InboxCounts): Promise<void> {
    try {
      const frame = stateFrame(counts);
      const outcome = await pusher.pushToUser(owner.tenant, owner.userId, frame);
      for (const problem of outcome.problems) report(problem);
      for (const { connectionId } of outcome.failed) {
        report({ what: `state push to ${connectionId}`, error: new Error('push kept failing') });
      }
    } catch (error) {
      report({ what: 'state push', error });
    }
  }

  /** The counts after a change, pushed to every connection when it changed anything. */
  async function settle(owner: InboxOwner, change: InboxChange): Promise<UnreadState> {
    const counts = await deps.inbox.counts(owner.tenant, owner.userId);
    const changed =
      (change.changed ?? 0) > 0 || change.unreadDelta !== 0 || (change.unseenDelta ?? 0) !== 0;
    if (changed) await announce(owner, counts);
    return counts;
  }

  return {
    /** One page of the caller's notifications, newest first. */
    async list(owner: InboxOwner, request: ListRequest): Promise<Page<Notification>> {
      if (
        !Number.isInteger(request.limit) ||
        request.limit < 1 ||
        request.limit > settings.maxLimit
      ) {
        throw new BadRequestError(`limit must be an integer from 1 to ${settings.maxLimit}`);
      }
      return deps.inbox.list({ kind: 'user', tenant: owner.tenant, userId: owner.userId }, request);
    },

    async get(owner: InboxOwner, id: string): Promise<Notification> {
      const found = await deps.inbox.get(owner.tenant, owner.userId, requireId(id));
      if (found === undefined) throw new NotFoundError('notification not found');
      return found;
    },

    /** The caller's counts: what a newly connected client asks for. */
    async state(owner: InboxOwner): Promise<UnreadState> {
      return deps.inbox.counts(owner.tenant, owner.userId);
    },

    /**
     * Tells every live connection of the user their count, after it moved with no change
     * of Herald's own: DynamoDB's TTL deleting an unread notification that expired.
     */
    async announceState(owner: InboxOwner): Promise<UnreadState> {
      const counts = await deps.inbox.counts(owner.tenant, owner.userId);
      await announce(owner, counts);
      return counts;
    },

    /**
     * Marks these read. Ids not in the caller's inbox are reported, not refused, since
     * marking is idempotent and a batch may race a deletion.
     */
    async markRead(owner: InboxOwner, ids: string[]): Promise<MarkReadResult> {
      const unique = [...new Set(ids)];
      if (unique.length === 0 || unique.length > settings.maxIds) {
        throw new BadRequestError(`give 1 to ${settings.maxIds} notification ids`);
      }
      unique.forEach(requireId);
      const change = await deps.inbox.markRead(owner.tenant, owner.userId, unique);
      return { ...(await settle(owner, change)), notFound: change.missing };
    },

    /** Throws NotFoundError when the id is not in the caller's inbox. */
    async markUnread(owner: InboxOwner, id: string): Promise<UnreadState> {
      const change = await deps.inbox.markUnread(owner.tenant, owner.userId, requireId(id));
      if (change.missing.length > 0) throw new NotFoundError('notification not found');
      return settle(owner, change);
    },

    async markAllRead(owner: InboxOwner): Promise<UnreadState> {
      return settle(owner, await deps.inbox.markAllRead(owner.tenant, owner.userId));
    },

    /** The bell was opened: every unseen notification is seen. */
    async markAllSeen(owner: InboxOwner): Promise<UnreadState> {
      return settle(owner, await deps.inbox.markAllSeen(owner.tenant, owner.userId));
    },

    /**
     * One notification seen, archived, unarchived; throws NotFoundError when the id is not
     * in the caller's inbox. Repeating a change is no error (nothing changes, nothing is pushed).
     */
    async change(
      owner: InboxOwner,
      id: string,
      change: Exclude<FlagChange, 'interact'>,
    ): Promise<UnreadState> {
      const result = await deps.inbox.change(owner.tenant, owner.userId, requireId(id), change);
      if (result.missing.length > 0) throw new NotFoundError('notification not found');
      return settle(owner, result);
    },

    /**
     * The user pressed action `action` (an index into the notification's `actions`): marks
     * it interacted, read and seen. A BadRequestError when it has no such action.
     */
    async interact(owner: InboxOwner, id: string, action: number): Promise<UnreadState> {
      const found = await deps.inbox.get(owner.tenant, owner.userId, requireId(id));
      if (found === undefined) throw new NotFoundError('notification not found');
      const count = found.actions?.length ?? 0;
      if (!Number.isInteger(action) || action < 0 || action >= count) {
        throw new BadRequestError(
          count === 0
            ? 'action: this notification has no actions'
            : `action must be an integer from 0 to ${count - 1}`,
        );
      }
      const result = await deps.inbox.change(owner.tenant, owner.userId, id, 'interact');
      if (result.missing.length > 0) throw new NotFoundError('notification not found');
      return settle(owner, result);
    },

    /** Throws NotFoundError when the id is not in the caller's inbox. */
    async remove(owner: InboxOwner, id: string): Promise<UnreadState> {
      const change = await deps.inbox.remove(owner.tenant, owner.userId, requireId(id));
      if (change.missing.length > 0) throw new NotFoundError('notification not found');
      return settle(owner, change);
    },
  };
}
