/**
 * Plain in-memory implementations of the core's ports, for unit tests of the core and
 * the handlers. They keep just enough behaviour to be honest about what the real
 * adapters do (conditional store, pagination, removal of every entry of a connection).
 * At the end, the events Lambda hands the handlers, shaped as AWS shapes them.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ConnectionGoneError } from '../../functions/core/errors';
import type {
  Connection,
  ConnectionRef,
  Notification,
  Page,
  Recipient,
} from '../../functions/core/model';
import type {
  Clock,
  ConnectionStore,
  Continuations,
  DeadLetters,
  Delivery,
  Directory,
  EventLedger,
  FanOutTask,
  Inbox,
  Mail,
  Mailer,
  MailLog,
  StoreOutcome,
} from '../../functions/core/ports';
import type { WebSocketEvent } from '../../functions/handlers/websocket-event';

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
  async listForTopic(
    tenant: string,
    topic: string,
    page: { cursor?: string; limit: number },
  ): Promise<Page<ConnectionRef>> {
    const refs = [...this.connections.values()]
      .filter((c) => c.tenant === tenant && c.topics.includes(topic))
      .map(({ connectionId, userId }) => ({ connectionId, userId }));
    return paginate(refs, page.cursor, page.limit);
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

export class FakeInbox implements Inbox {
  readonly items = new Map<string, Notification>();
  /** Recipient keys (see `recipientKey`) whose store throws. */
  failFor = new Set<string>();
  storeCalls = 0;

  async store(recipient: Recipient, notification: Notification): Promise<StoreOutcome> {
    this.storeCalls++;
    const key = recipientKey(recipient);
    if (this.failFor.has(key)) throw new Error(`store failed for ${key}`);
    const itemKey = `${key}/${notification.id}`;
    if (this.items.has(itemKey)) return { fresh: false };
    this.items.set(itemKey, notification);
    return { fresh: true };
  }
  async setUndelivered(): Promise<void> {}
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
