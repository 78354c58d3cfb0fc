/**
 * Plain in-memory implementations of the core's ports, for unit tests of the core and
 * the handlers. They keep just enough behaviour to be honest about what the real
 * adapters do (conditional store, pagination, removal of every entry of a connection).
 * At the end, the events Lambda hands the handlers, shaped as AWS shapes them.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ConnectionGoneError } from '#core/errors';
import type { Connection, ConnectionRef, Notification, Page, Recipient } from '#core/model';
import type {
  Clock,
  ConnectionStore,
  Continuations,
  DeadLetters,
  Delivery,
  Directory,
  EventLedger,
  FanOutInbox,
  FanOutTask,
  InboxChange,
  InboxQuery,
  Mail,
  Mailer,
  MailLog,
  OwnerInbox,
  StoreOutcome,
  TopicPages,
  TopicRange,
} from '#core/ports';
import type { WebSocketEvent } from '#handlers/websocket-event';

function paginate<T>(items: T[], cursor: string | undefined, limit: number): Page<T> {
  const start = cursor ? Number(cursor) : 0;
  const end = start + limit;
  return { items: items.slice(start, end), cursor: end < items.length ? String(end) : undefined };
}

export class FakeConnectionStore implements ConnectionStore {
  readonly connections = new Map<string, Connection>();
  readonly removed: string[] = [];
  /** The TTL (epoch s) each connection was put with. */
  readonly expiresAt = new Map<string, number>();
  userPageSize = 100;

  async put(connection: Connection, expiresAt: number): Promise<void> {
    this.expiresAt.set(connection.connectionId, expiresAt);
    this.connections.set(connection.connectionId, {
      ...connection,
      topics: [...connection.topics],
    });
  }
  async get(connectionId: string): Promise<Connection | undefined> {
    return this.connections.get(connectionId);
  }
  async remove(connectionId: string): Promise<void> {
    this.removed.push(connectionId);
    this.connections.delete(connectionId);
  }
  async listForUser(tenant: string, userId: string, cursor?: string): Promise<Page<ConnectionRef>> {
    const refs = [...this.connections.values()]
      .filter((c) => c.tenant === tenant && c.userId === userId)
      .map(({ connectionId, userId: user }) => ({ connectionId, userId: user }));
    return paginate(refs, cursor, this.userPageSize);
  }
  /**
   * As DynamoDB keeps topic entries: in key (connection id) order, a cursor being the last
   * id read, so pages stay put while connections come and go. A cursor is handed back only
   * when more follow.
   */
  async listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number; until?: string },
  ): Promise<Page<ConnectionRef>> {
    const { cursor, until } = page;
    const range = this.topicAfter(tenant, topic, cursor).filter(
      (ref) => until === undefined || ref.connectionId <= until,
    );
    const items = range.slice(0, page.limit);
    const last = items.at(-1);
    return range.length > items.length && last ? { items, cursor: last.connectionId } : { items };
  }
  async topicPages(
    tenant: string,
    topic: string,
    walk: { cursor?: string; pageSize: number; maxPages: number },
  ): Promise<TopicPages> {
    const refs = this.topicAfter(tenant, topic, walk.cursor);
    const pages: TopicRange[] = [];
    let cursor = walk.cursor;
    for (let start = 0; start < refs.length; start += walk.pageSize) {
      if (pages.length === walk.maxPages && cursor !== undefined) return { pages, rest: cursor };
      const until = refs[Math.min(start + walk.pageSize, refs.length) - 1]?.connectionId ?? '';
      pages.push({ cursor, until });
      cursor = until;
    }
    return { pages };
  }
  private topicAfter(tenant: string, topic: string, cursor: string | undefined): ConnectionRef[] {
    return [...this.connections.values()]
      .filter((c) => c.tenant === tenant && c.topics.includes(topic))
      .filter((c) => cursor === undefined || c.connectionId > cursor)
      .map(({ connectionId, userId }) => ({ connectionId, userId }))
      .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));
  }
  async subscribe(connection: Connection, topics: string[]): Promise<void> {
    const stored = this.connections.get(connection.connectionId);
    if (!stored) throw new Error(`unknown connection ${connection.connectionId}`);
    stored.topics = [...new Set([...stored.topics, ...topics])];
  }
  async unsubscribe(connection: Connection, topics: string[]): Promise<void> {
    const stored = this.connections.get(connection.connectionId);
    if (stored) stored.topics = stored.topics.filter((t) => !topics.includes(t));
  }
}

export function recipientKey(recipient: Recipient): string {
  return recipient.kind === 'user'
    ? `${recipient.tenant}/user/${recipient.userId}`
    : `${recipient.tenant}/topic/${recipient.topic}`;
}

/**
 * The inbox in memory: `FanOutInbox` for the fan-out, `OwnerInbox` for the inbox service. Read
 * state and the unread count move together, as the DynamoDB transactions make them.
 */
export class FakeInbox implements FanOutInbox, OwnerInbox {
  readonly items = new Map<string, Notification>();
  /** Recipient keys (see `recipientKey`) whose store throws. */
  failFor = new Set<string>();
  storeCalls = 0;
  /** Calls of the read-state methods, e.g. `markRead acme/alice 01J…`. */
  readonly calls: string[] = [];
  private readonly counts = new Map<string, number>();
  /** Each user's events (`<recipient key>#<event id>`) with their first notification. */
  private readonly events = new Map<string, Notification>();

  async store(recipient: Recipient, notification: Notification): Promise<StoreOutcome> {
    this.storeCalls++;
    const key = recipientKey(recipient);
    if (this.failFor.has(key)) throw new Error(`store failed for ${key}`);
    if (recipient.kind === 'user') {
      // As the STATE item does: a user's known event is never stored again, not even after
      // they deleted it; a re-publish answers with the first notification.
      const eventKey = `${key}#${notification.eventId}`;
      const first = this.events.get(eventKey);
      if (first !== undefined) {
        return first.id === notification.id
          ? { fresh: false }
          : { fresh: false, notification: { ...first } };
      }
      this.events.set(eventKey, { ...notification });
    }
    const itemKey = `${key}/${notification.id}`;
    if (this.items.has(itemKey)) return { fresh: false };
    this.items.set(itemKey, { ...notification });
    if (recipient.kind === 'user' && !notification.read) this.move(key, 1);
    return { fresh: true };
  }

  async list(recipient: Recipient, query: InboxQuery): Promise<Page<Notification>> {
    const prefix = `${recipientKey(recipient)}/`;
    const all = [...this.items.entries()]
      .filter(([key, note]) => key.startsWith(prefix) && !(query.unreadOnly && note.read))
      .map(([, note]) => ({ ...note }))
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    // The cursor is the last id served, so inserts never shift later pages.
    const start = query.cursor ? all.findIndex((note) => note.id < String(query.cursor)) : 0;
    const items = start < 0 ? [] : all.slice(start, start + query.limit);
    const last = items.at(-1);
    const more = last !== undefined && all.some((note) => note.id < last.id);
    return more ? { items, cursor: last.id } : { items };
  }

  async get(tenant: string, userId: string, id: string): Promise<Notification | undefined> {
    const note = this.items.get(this.key(tenant, userId, id));
    return note && { ...note };
  }

  async unreadCount(tenant: string, userId: string): Promise<number> {
    return this.counts.get(recipientKey({ kind: 'user', tenant, userId })) ?? 0;
  }

  async markRead(tenant: string, userId: string, ids: string[]): Promise<InboxChange> {
    this.calls.push(`markRead ${tenant}/${userId} ${ids.join(',')}`);
    const missing: string[] = [];
    let delta = 0;
    for (const id of new Set(ids)) {
      const note = this.items.get(this.key(tenant, userId, id));
      if (!note) missing.push(id);
      else if (!note.read) {
        note.read = true;
        delta--;
      }
    }
    this.move(recipientKey({ kind: 'user', tenant, userId }), delta);
    return { missing, unreadDelta: delta };
  }

  async markUnread(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`markUnread ${tenant}/${userId} ${id}`);
    const note = this.items.get(this.key(tenant, userId, id));
    if (!note) return { missing: [id], unreadDelta: 0 };
    if (!note.read) return { missing: [], unreadDelta: 0 };
    note.read = false;
    this.move(recipientKey({ kind: 'user', tenant, userId }), 1);
    return { missing: [], unreadDelta: 1 };
  }

  async markAllRead(tenant: string, userId: string): Promise<InboxChange> {
    this.calls.push(`markAllRead ${tenant}/${userId}`);
    const prefix = `${recipientKey({ kind: 'user', tenant, userId })}/`;
    const unread = [...this.items.entries()]
      .filter(([key, note]) => key.startsWith(prefix) && !note.read)
      .map(([, note]) => note.id);
    return this.markRead(tenant, userId, unread);
  }

  async remove(tenant: string, userId: string, id: string): Promise<InboxChange> {
    this.calls.push(`remove ${tenant}/${userId} ${id}`);
    const key = this.key(tenant, userId, id);
    const note = this.items.get(key);
    if (!note) return { missing: [id], unreadDelta: 0 };
    this.items.delete(key);
    const delta = note.read ? 0 : -1;
    this.move(recipientKey({ kind: 'user', tenant, userId }), delta);
    return { missing: [], unreadDelta: delta };
  }

  private key(tenant: string, userId: string, id: string): string {
    return `${recipientKey({ kind: 'user', tenant, userId })}/${id}`;
  }

  private move(owner: string, delta: number): void {
    this.counts.set(owner, (this.counts.get(owner) ?? 0) + delta);
  }
}

/** Records every post; `behaviour` decides per connection what each attempt does. */
export class FakeDelivery implements Delivery {
  readonly posts: Array<{ connectionId: string; data: string }> = [];
  inFlight = 0;
  maxInFlight = 0;
  behaviour: (connectionId: string, attempt: number) => 'ok' | 'gone' | Error = () => 'ok';
  /** Shared with other fakes to record the order of side effects (`post <id>`). */
  journal: string[] | undefined;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly latencyMs = 0) {}

  /** How many times a post to this connection was tried. */
  attemptsOf(connectionId: string): number {
    return this.attempts.get(connectionId) ?? 0;
  }

  async post(connectionId: string, data: string): Promise<void> {
    const attempt = (this.attempts.get(connectionId) ?? 0) + 1;
    this.attempts.set(connectionId, attempt);
    this.journal?.push(`post ${connectionId}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const outcome = this.behaviour(connectionId, attempt);
      if (outcome === 'gone') throw new ConnectionGoneError(connectionId);
      if (outcome instanceof Error) throw outcome;
      this.posts.push({ connectionId, data });
    } finally {
      this.inFlight--;
    }
  }

  delivered(connectionId: string): unknown[] {
    return this.posts.filter((p) => p.connectionId === connectionId).map((p) => JSON.parse(p.data));
  }
}

export class FakeContinuations implements Continuations {
  readonly tasks: Array<{ task: FanOutTask; delaySeconds?: number }> = [];
  /** Shared with other fakes to record the order of side effects (`enqueue <kind>`). */
  journal: string[] | undefined;
  /** When set, every enqueue throws it (SQS unavailable). */
  failure: Error | undefined;
  async enqueue(task: FanOutTask, delaySeconds?: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.journal?.push(`enqueue ${task.kind}`);
    this.tasks.push({ task, delaySeconds });
  }
  /** Journals each call once (`enqueue many <n>`), as the adapter sends them in batches. */
  async enqueueMany(tasks: readonly FanOutTask[]): Promise<void> {
    if (this.failure) throw this.failure;
    this.journal?.push(`enqueue many ${tasks.length}`);
    for (const task of tasks) this.tasks.push({ task });
  }
}

export class FakeDeadLetters implements DeadLetters {
  readonly rejected: Array<{ body: string; reason: string }> = [];
  async reject(body: string, reason: string): Promise<void> {
    this.rejected.push({ body, reason });
  }
}

export class FakeDirectory implements Directory {
  readonly emails = new Map<string, string>();
  async rememberEmail(tenant: string, userId: string, email: string): Promise<void> {
    this.emails.set(`${tenant}/${userId}`, email);
  }
  async emailOf(tenant: string, userId: string): Promise<string | undefined> {
    return this.emails.get(`${tenant}/${userId}`);
  }
}

export class FakeMailLog implements MailLog {
  readonly sent = new Set<string>();
  async wasSent(tenant: string, userId: string, id: string): Promise<boolean> {
    return this.sent.has(`${tenant}/${userId}/${id}`);
  }
  async recordSent(tenant: string, userId: string, id: string): Promise<void> {
    this.sent.add(`${tenant}/${userId}/${id}`);
  }
}

export class FakeMailer implements Mailer {
  readonly mails: Mail[] = [];
  failFor = new Set<string>();
  async send(mail: Mail): Promise<void> {
    if (this.failFor.has(mail.to)) throw new Error(`SES refused ${mail.to}`);
    this.mails.push(mail);
  }
}

/** A clock whose sleeps return at once and are recorded. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = Date.parse('2026-11-23T12:00:00Z')) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }
}

/** The body SQS holds for an SNS publish (raw message delivery off): the envelope in `Message`. */
export function snsNotificationBody(message: string, timestamp: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: createHash('sha256').update(message).digest('hex').slice(0, 36),
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:herald-notifications',
    Message: message,
    Timestamp: timestamp,
    SignatureVersion: '1',
    Signature: 'c2lnbmF0dXJl',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  });
}

/** One SQS record as the Lambda event source mapping delivers it. */
export function sqsRecord(
  messageId: string,
  body: string,
  options: { receiveCount?: number; sentAt?: number; queue?: string } = {},
): SQSRecord {
  const sentAt = options.sentAt ?? Date.parse('2026-11-23T12:00:00.000Z');
  return {
    messageId,
    receiptHandle: `AQEB${Buffer.from(messageId).toString('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAt),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(sentAt + 5),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${options.queue ?? 'herald-fan-out'}`,
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/**
 * A WebSocket route event as API Gateway sends it: the `$connect` authorizer's context
 * (plus the `principalId` and `integrationLatency` API Gateway adds) on every route.
 */
export function webSocketEvent(options: {
  routeKey: '$connect' | '$disconnect' | '$default';
  connectionId: string;
  authorizer?: Record<string, unknown>;
  body?: string;
  isBase64Encoded?: boolean;
  connectedAt?: number;
}): WebSocketEvent {
  const eventType = (
    { $connect: 'CONNECT', $disconnect: 'DISCONNECT', $default: 'MESSAGE' } as const
  )[options.routeKey];
  const now = Date.parse('2026-11-23T12:00:01.000Z');
  return {
    requestContext: {
      routeKey: options.routeKey,
      messageId: 'msg-1',
      eventType,
      extendedRequestId: 'ext-1',
      requestTime: '23/Nov/2026:12:00:01 +0000',
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: options.connectedAt ?? now - 1000,
      requestTimeEpoch: now,
      requestId: 'req-1',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      connectionId: options.connectionId,
      apiId: 'abc123',
      authorizer: options.authorizer && {
        ...options.authorizer,
        principalId: String(options.authorizer.userId),
        integrationLatency: 12,
      },
    },
    body: options.body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

export class FakeEventLedger implements EventLedger {
  readonly first = new Map<string, number>();
  async firstPublished(tenant: string, eventId: string, publishedAt: number): Promise<number> {
    const key = `${tenant}/${eventId}`;
    const known = this.first.get(key);
    if (known !== undefined) return known;
    this.first.set(key, publishedAt);
    return publishedAt;
  }
}

// Imported here, not at the top: this fake was appended while others edit the file.
import type { Preferences } from '#core/model';
import type { PreferenceKey, PreferenceStore } from '#core/ports';

/** Preferences kept in maps; `reads` records lookups, so a test can see what was fetched. */
export class FakePreferenceStore implements PreferenceStore {
  readonly users = new Map<string, Preferences>();
  readonly tenants = new Map<string, Preferences>();
  readonly reads: string[] = [];
  async user(tenant: string, userId: string): Promise<Preferences | undefined> {
    this.reads.push(`user ${tenant}/${userId}`);
    return this.users.get(`${tenant}/${userId}`);
  }
  async putUser(tenant: string, userId: string, preferences: Preferences): Promise<void> {
    this.users.set(`${tenant}/${userId}`, preferences);
  }
  /** Records each key as `user` and `tenantDefaults` do, and the request in `manyReads`. */
  readonly manyReads: number[] = [];
  async many(keys: readonly PreferenceKey[]): Promise<Array<Preferences | undefined>> {
    this.manyReads.push(keys.length);
    return Promise.all(
      keys.map(({ tenant, userId }) =>
        userId === undefined ? this.tenantDefaults(tenant) : this.user(tenant, userId),
      ),
    );
  }
  async tenantDefaults(tenant: string): Promise<Preferences | undefined> {
    this.reads.push(`tenant ${tenant}`);
    return this.tenants.get(tenant);
  }
  async putTenantDefaults(tenant: string, preferences: Preferences): Promise<void> {
    this.tenants.set(tenant, preferences);
  }
}

// Imported here, not at the top: this fake was appended while others edit the file.
import type { ReplaySource } from '#core/ports';

/** Recipients' histories in memory, sorted by id; `queries` records each forward read. */
export class FakeReplaySource implements ReplaySource {
  readonly histories = new Map<string, Notification[]>();
  readonly queries: Array<{ recipient: string; afterId: string; limit: number }> = [];

  add(recipient: Recipient, ...notifications: Notification[]): void {
    const key = recipientKey(recipient);
    const history = [...(this.histories.get(key) ?? []), ...notifications];
    this.histories.set(
      key,
      history.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    );
  }
  async has(recipient: Recipient, id: string): Promise<boolean> {
    return (this.histories.get(recipientKey(recipient)) ?? []).some((n) => n.id === id);
  }
  async after(recipient: Recipient, afterId: string, limit: number): Promise<Notification[]> {
    const key = recipientKey(recipient);
    this.queries.push({ recipient: key, afterId, limit });
    return (this.histories.get(key) ?? []).filter((n) => n.id > afterId).slice(0, limit);
  }
}

// Imported here, not at the top: these fakes were appended while others edit the file.
import type {
  CollapseCandidate,
  CollapseOffer,
  CollapseSlot,
  CollapseSlotState,
  CollapseStore,
} from '#core/ports';

interface FakeSlotItem {
  windowId?: string;
  windowEnds?: number;
  closing?: boolean;
  latest: CollapseCandidate;
  lastWindowId?: string;
  expiresAt: number;
}

/**
 * Collapse slots in a map, with the conditions `DynamoCollapseStore` writes with. Shared by
 * several fan-outs, it stands for the table that concurrent invocations share.
 */
export class FakeCollapseStore implements CollapseStore {
  readonly items = new Map<string, FakeSlotItem>();
  /** Every call, in order (`offer`, `adopt`, `close`, `settle`), so tests can count writes. */
  readonly calls: string[] = [];
  /** Operations that throw, as DynamoDB failing would. */
  readonly failOn = new Set<'offer' | 'adopt' | 'close' | 'settle'>();

  static keyOf(slot: CollapseSlot): string {
    return `${recipientKey(slot.recipient)}#${slot.collapseKey}`;
  }

  state(slot: CollapseSlot): CollapseSlotState | undefined {
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    return item && FakeCollapseStore.toState(item);
  }

  async offer(
    slot: CollapseSlot,
    candidate: CollapseCandidate,
    window: { now: number; windowEnds: number },
    expiresAt: number,
  ): Promise<CollapseOffer> {
    this.record('offer');
    const key = FakeCollapseStore.keyOf(slot);
    const item = this.items.get(key);
    const latest = structuredClone(candidate);
    if (item === undefined || (item.windowEnds === undefined && item.latest.id < candidate.id)) {
      this.items.set(key, {
        ...item,
        latest,
        windowId: candidate.id,
        windowEnds: window.windowEnds,
        expiresAt,
      });
      return { kind: 'claimed', windowEnds: window.windowEnds };
    }
    if (
      item.windowId !== undefined &&
      item.windowEnds !== undefined &&
      item.windowEnds > window.now &&
      !item.closing &&
      item.latest.id < candidate.id
    ) {
      Object.assign(item, { latest, expiresAt });
      return { kind: 'joined', windowId: item.windowId, windowEnds: item.windowEnds };
    }
    return { kind: 'refused', slot: FakeCollapseStore.toState(item) };
  }

  async adopt(
    slot: CollapseSlot,
    stale: { windowId: string; latestId: string },
    claim: { windowId: string; windowEnds: number; latest: CollapseCandidate },
    expiresAt: number,
  ): Promise<boolean> {
    this.record('adopt');
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    if (item?.windowId !== stale.windowId || item.latest.id !== stale.latestId) return false;
    Object.assign(item, {
      windowId: claim.windowId,
      windowEnds: claim.windowEnds,
      latest: structuredClone(claim.latest),
      closing: undefined,
      expiresAt,
    });
    return true;
  }

  async close(slot: CollapseSlot, windowId: string): Promise<CollapseCandidate | undefined> {
    this.record('close');
    const item = this.items.get(FakeCollapseStore.keyOf(slot));
    if (item?.windowId !== windowId) return undefined;
    item.closing = true;
    return structuredClone(item.latest);
  }

  async settle(
    slot: CollapseSlot,
    windowId: string,
    delivered: CollapseCandidate,
    expiresAt: number,
  ): Promise<boolean> {
    this.record('settle');
    const key = FakeCollapseStore.keyOf(slot);
    const item = this.items.get(key);
    if (item?.windowId !== windowId) return false;
    this.items.set(key, { latest: structuredClone(delivered), lastWindowId: windowId, expiresAt });
    return true;
  }

  private record(operation: 'offer' | 'adopt' | 'close' | 'settle'): void {
    this.calls.push(operation);
    if (this.failOn.has(operation)) throw new Error(`collapse store ${operation} failed`);
  }

  private static toState(item: FakeSlotItem): CollapseSlotState {
    const latest = structuredClone(item.latest);
    if (item.windowId !== undefined && item.windowEnds !== undefined) {
      const { windowId, windowEnds } = item;
      return { kind: 'open', windowId, windowEnds, closing: item.closing === true, latest };
    }
    return { kind: 'settled', lastWindowId: item.lastWindowId ?? '', latest };
  }
}

/**
 * A clock that moves only when a test moves it: sleepers wake once it passes their time.
 * Lets a test hold a collapse window open while other envelopes arrive, then end it.
 */
export class ManualClock implements Clock {
  private readonly sleepers: Array<{ until: number; wake: () => void }> = [];
  constructor(public time = Date.parse('2026-11-23T12:00:00Z')) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.time + ms, wake }));
  }

  /** How many sleeps are waiting. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Moves time on, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.time += ms;
    for (const sleeper of [...this.sleepers]) {
      if (sleeper.until > this.time) continue;
      this.sleepers.splice(this.sleepers.indexOf(sleeper), 1);
      sleeper.wake();
    }
  }

  /** Resolves once at least `count` sleeps wait; fails rather than hang when they never do. */
  async untilSleeping(count = 1): Promise<void> {
    for (let turn = 0; turn < 1000; turn++) {
      if (this.sleepers.length >= count) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`expected ${count} sleeping, found ${this.sleepers.length}`);
  }
}
