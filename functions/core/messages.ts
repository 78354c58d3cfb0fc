import * as z from 'zod';
import { connectionExpiresAt, toConnection } from './connections';
import {
  BadRequestError,
  ForbiddenError,
  HeraldError,
  LimitExceededError,
  toErrorBody,
} from './errors';
import type { FrameGate } from './frame-rate';
import type { ErrorBody, ServerFrame } from './frames';
import type { InboxService } from './inbox';
import type { Identity } from './model';
import { isNotificationId } from './notification-id';
import type { ConnectionStore } from './ports';
import type { Presence } from './presence';
import type { Replay } from './replay';
import type { ChangeReport } from './resume-changes';
import type { createTokenRefresh } from './token-refresh';
import { isValidTopic, mayAccessTopic, presenceTopic } from './topics';

/** Fixed: the browser client sends its topics in chunks of this many. */
export const MAX_TOPICS_PER_REQUEST = 20;

/** The caps a client's frames are held to (README "Security"); configurable per stage. */
export interface MessageLimits {
  /** Topics one connection may hold at once. */
  subscriptionsPerConnection: number;
  /** Notification ids one `markRead` may name. */
  idsPerRequest: number;
  /** Users one `presence` query may ask about. */
  presenceUsers: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  subscriptionsPerConnection: 100,
  idsPerRequest: 100,
  presenceUsers: 100,
};

/** Who sent a frame: carried on every route by API Gateway from the authorizer. */
export interface Caller {
  identity: Identity;
  connectionId: string;
  connectedAt: number;
}

export interface MessageOutcome {
  frame: ServerFrame;
  /** An unexpected failure behind an `internal` reply, for the handler to log. */
  error?: unknown;
}

const frameHead = z.looseObject({
  action: z.string().min(1).max(64),
  requestId: z.string().min(1).max(128).optional(),
});

const topicsArgs = z.looseObject({
  topics: z.array(z.string()).min(1).max(MAX_TOPICS_PER_REQUEST),
});

const resumeArgs = z.looseObject({
  since: z.string().optional(),
  after: z.string().optional(),
  changesSince: z.string().optional(),
});

// Counts are checked against the configured caps after parsing, with their own codes.
const presenceArgs = z.looseObject({
  users: z.array(z.string().min(1).max(256)).min(1),
});

// Either ids or all, never both: the service checks the ids themselves.
const markReadArgs = z.union([
  z.looseObject({ ids: z.array(z.string()).min(1), all: z.undefined().optional() }),
  z.looseObject({ all: z.literal(true), ids: z.undefined().optional() }),
]);

export interface MessageDeps {
  connections: ConnectionStore;
  replay: Pick<Replay, 'resume'>;
  /** The `changes` of a `resume` reply; without it the reply reports none. */
  changes?: ChangeReport;
  presence: Pick<Presence, 'query'>;
  /** The inbox service's read-state side; it pushes `state` to the user's connections. */
  inbox: Pick<InboxService, 'markRead' | 'markAllRead' | 'state'>;
  /** DEFAULT_MESSAGE_LIMITS when left out. */
  limits?: MessageLimits;
  /** The `refresh` action; without it `refresh` is refused as `unauthorized`. */
  refresh?: ReturnType<typeof createTokenRefresh>;
  /** Every frame passes it first (`frame-rate.ts`); no rate limit when left out. */
  frameGate?: FrameGate;
}

type Action = (args: unknown, caller: Caller) => Promise<Record<string, unknown>>;

/**
 * Handles one client frame (`$default` route) and says what to answer. A bad frame gets
 * an error reply; nothing here closes the socket.
 */
export function createMessageHandler(deps: MessageDeps) {
  const limits = deps.limits ?? DEFAULT_MESSAGE_LIMITS;

  function parseTopics(args: unknown, caller: Caller): string[] {
    const parsed = topicsArgs.safeParse(args);
    if (!parsed.success) {
      throw new BadRequestError(
        `"topics" must be an array of 1 to ${MAX_TOPICS_PER_REQUEST} topic names`,
      );
    }
    const topics = [...new Set(parsed.data.topics)];
    const invalid = topics.filter((topic) => !isValidTopic(topic));
    if (invalid.length > 0) throw new BadRequestError(`invalid topic: ${invalid.join(', ')}`);
    const denied = topics.filter((topic) => !mayAccessTopic(caller.identity, topic));
    if (denied.length > 0) {
      throw new ForbiddenError(`your token does not allow topic: ${denied.join(', ')}`);
    }
    return topics;
  }

  const actions: Record<string, Action> = {
    async refresh(args, caller) {
      if (deps.refresh === undefined) {
        throw new HeraldError('unauthorized', 'this stage cannot verify tokens');
      }
      return { ...(await deps.refresh(args, caller)) };
    },
    async subscribe(args, caller) {
      const topics = parseTopics(args, caller);
      const connection = toConnection(caller.identity, caller.connectionId, caller.connectedAt);
      const expiresAt = connectionExpiresAt(caller.connectedAt);
      await deps.connections.subscribe(connection, topics, expiresAt, {
        maxTopics: limits.subscriptionsPerConnection,
      });
      return { topics };
    },
    async unsubscribe(args, caller) {
      const topics = parseTopics(args, caller);
      const connection = toConnection(caller.identity, caller.connectionId, caller.connectedAt);
      await deps.connections.unsubscribe(connection, topics);
      return { topics };
    },
    async resume(args, caller) {
      const parsed = resumeArgs.safeParse(args);
      if (!parsed.success || (parsed.data.since ?? parsed.data.changesSince) === undefined) {
        throw new BadRequestError(
          '"since" (a notification id) or "changesSince" (a change id) is required; "after" is optional',
        );
      }
      const { since, after, changesSince } = parsed.data;
      if (after !== undefined && (since === undefined || !isNotificationId(after))) {
        throw new BadRequestError('"after" must be the "last" of an earlier reply');
      }
      if (changesSince !== undefined && !isNotificationId(changesSince)) {
        throw new BadRequestError('"changesSince" must be the id of a change the client received');
      }
      const { identity, connectionId } = caller;
      // Subscribed topics come from the store: the authorizer context knows none.
      const connection = await deps.connections.get(connectionId);
      const topics = connection?.topics ?? [];
      const who = { tenant: identity.tenant, userId: identity.userId, topics };
      // Kinds changed since the client's cursor, once per resume: in its first round only.
      const cursor = changesSince ?? since;
      const changes =
        deps.changes === undefined || after !== undefined || cursor === undefined
          ? undefined
          : deps.changes(who, cursor);
      changes?.catch(() => undefined);
      const result =
        since === undefined
          ? { replayed: 0, more: false }
          : await deps.replay.resume({
              ...who,
              connectionId,
              since,
              ...(after === undefined ? {} : { after }),
            });
      return changes === undefined ? { ...result } : { ...result, changes: await changes };
    },
    async markRead(args, caller) {
      const parsed = markReadArgs.safeParse(args);
      if (!parsed.success) {
        throw new BadRequestError('give either "ids" (notification ids) or "all": true');
      }
      const { all, ids = [] } = parsed.data;
      if (ids.length > limits.idsPerRequest) {
        throw new LimitExceededError(
          'too_many_ids',
          `"ids" may name at most ${limits.idsPerRequest} notifications: send several frames`,
        );
      }
      if (all === true) return { ...(await deps.inbox.markAllRead(caller.identity)) };
      return { ...(await deps.inbox.markRead(caller.identity, ids)) };
    },
    async state(_args, caller) {
      return { ...(await deps.inbox.state(caller.identity)) };
    },
    async presence(args, caller) {
      const parsed = presenceArgs.safeParse(args);
      if (!parsed.success) {
        throw new BadRequestError('"users" must be an array of user ids');
      }
      const { users } = parsed.data;
      if (users.length > limits.presenceUsers) {
        throw new LimitExceededError(
          'too_many_users',
          `"users" may name at most ${limits.presenceUsers} users: ask in several frames`,
        );
      }
      // Asking is watching once: the same grant `subscribe` needs for `presence.<user>`. A
      // user id that is not one topic token has no presence topic, so no grant covers it.
      const denied = users.filter((userId) => {
        const topic = presenceTopic(userId);
        return topic === undefined || !mayAccessTopic(caller.identity, topic);
      });
      if (denied.length > 0) {
        throw new ForbiddenError(
          `your token does not allow presence of: ${[...new Set(denied)].slice(0, 10).join(', ')}`,
        );
      }
      // The caller's own tenant only: keys carry it, so other tenants' users are never seen.
      return { online: await deps.presence.query(caller.identity.tenant, users) };
    },
  };

  function failure(requestId: string | undefined, error: ErrorBody): ServerFrame {
    return requestId === undefined
      ? { type: 'error', error }
      : { type: 'reply', requestId, ok: false, error };
  }

  return async function handleMessage(
    body: string | undefined,
    caller: Caller,
  ): Promise<MessageOutcome> {
    let input: unknown;
    let readable = true;
    try {
      input = JSON.parse(body ?? '');
    } catch {
      readable = false;
    }
    // Every frame counts against the budget, unreadable ones too.
    let gateError: unknown;
    try {
      const refused = await deps.frameGate?.(caller.connectionId);
      if (refused !== undefined) return { frame: failure(requestIdOf(input), refused) };
    } catch (error) {
      // A budget that cannot be read lets the frame through: a DynamoDB hiccup must not
      // silence every client. Reported with the outcome.
      gateError = error;
    }
    if (!readable) {
      const error = { code: 'bad_frame', message: 'frame is not JSON' };
      return { frame: failure(undefined, error), error: gateError };
    }
    const outcome = await dispatch(input, caller);
    return gateError === undefined || outcome.error !== undefined
      ? outcome
      : { ...outcome, error: gateError };
  };

  async function dispatch(input: unknown, caller: Caller): Promise<MessageOutcome> {
    const head = frameHead.safeParse(input);
    if (!head.success) {
      const requestId = requestIdOf(input);
      const message = 'frame must be a JSON object with a string "action"';
      return { frame: failure(requestId, { code: 'bad_frame', message }) };
    }
    const { action, requestId } = head.data;
    if (action === 'ping') return { frame: { type: 'pong', requestId } };
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!run) {
      const error = { code: 'unknown_action', message: `unknown action "${action}"` };
      return { frame: failure(requestId, error) };
    }
    try {
      const result = await run(input, caller);
      return {
        frame:
          requestId === undefined
            ? { type: 'reply', ok: true, result }
            : { type: 'reply', requestId, ok: true, result },
      };
    } catch (error) {
      return {
        frame: failure(requestId, toErrorBody(error)),
        error: error instanceof HeraldError ? undefined : error,
      };
    }
  }
}

function requestIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { requestId } = input as { requestId?: unknown };
  return typeof requestId === 'string' && requestId.length > 0 && requestId.length <= 128
    ? requestId
    : undefined;
}
