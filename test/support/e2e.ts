/**
 * Helpers for end-to-end tests on the launched local stack: real `ws` clients holding dev
 * tokens, publishing with `@aws-sdk/client-sns`, and waiting for what must happen.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { createDocumentClient } from '#adapters/aws-clients';
import { signDevToken } from '#local/dev-token';
import { heldIn } from '#local/queue-depth';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '#local/stack';

export const E2E_SECRET = 'e2e-test-secret-of-at-least-thirty-two-bytes';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface E2e {
  stack: LocalStack;
  sns: SNSClient;
  sqs: SQSClient;
  /** EventBridge's `PutEvents` on the stack's local EventBridge. */
  events: EventBridgeClient;
  /** A document client on the stack's DynamoDB, for looking behind the API. */
  doc: DynamoDBDocumentClient;
  /** A connected client keeping every frame it receives. */
  connect(userId: string, claims?: TokenClaims): Promise<TestClient>;
  token(userId: string, claims?: TokenClaims): Promise<string>;
  publish(envelope: Record<string, unknown>): Promise<void>;
  /** GETs an HTTP API path as `userId`, expecting 200, and returns the JSON body. */
  getJson(path: string, userId: string, claims?: TokenClaims): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TokenClaims {
  tenant?: string;
  email?: string;
  topics?: string[];
  /** The token's lifetime (an hour unless given). */
  ttlSeconds?: number;
  /** A service credential (`"herald:role": "service"`) rather than the user's token. */
  service?: boolean;
}

export interface TestClient {
  socket: WebSocket;
  frames: Array<Record<string, unknown>>;
  notifications(): Array<Record<string, unknown>>;
  /** Sends an action frame and resolves with its reply (or error) frame. */
  request(action: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Starts the whole local stack on free ports (call in beforeAll; `stop()` in afterAll). */
export async function startE2e(options: Partial<LocalStackOptions> = {}): Promise<E2e> {
  const stack = await startLocalStack({
    ports: { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 },
    jwtSecret: E2E_SECRET,
    pollSeconds: 1,
    ...options,
  });
  const sns = new SNSClient({
    endpoint: stack.urls.sns,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const sqs = new SQSClient({
    endpoint: stack.urls.sqs,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const events = new EventBridgeClient({
    endpoint: stack.urls.eventbridge,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const doc = createDocumentClient(
    new DynamoDBClient({
      endpoint: stack.urls.dynamodb,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const sockets: WebSocket[] = [];
  let requests = 0;

  const token = (userId: string, claims: TokenClaims = {}) =>
    signDevToken({ userId, secret: E2E_SECRET, ...claims });

  async function connect(userId: string, claims: TokenClaims = {}): Promise<TestClient> {
    const socket = new WebSocket(`${stack.urls.websocket}/?token=${await token(userId, claims)}`);
    sockets.push(socket);
    const frames: Array<Record<string, unknown>> = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return {
      socket,
      frames,
      notifications: () =>
        frames
          .filter((frame) => frame.type === 'notification')
          .map((frame) => frame.notification as Record<string, unknown>),
      async request(action, args = {}) {
        requests += 1;
        const requestId = `r${requests}`;
        socket.send(JSON.stringify({ action, requestId, ...args }));
        let reply: Record<string, unknown> | undefined;
        await eventually(() => {
          reply = frames.find((frame) => frame.requestId === requestId);
          if (!reply) throw new Error(`no reply to ${action} yet`);
        });
        return reply as Record<string, unknown>;
      },
    };
  }

  return {
    stack,
    sns,
    sqs,
    events,
    doc,
    connect,
    token,
    async publish(envelope) {
      await sns.send(
        new PublishCommand({ TopicArn: stack.topicArn, Message: JSON.stringify(envelope) }),
      );
    },
    async getJson(path, userId, claims) {
      const response = await fetch(`${stack.urls.http}${path}`, {
        headers: { authorization: `Bearer ${await token(userId, claims)}` },
      });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    },
    async stop() {
      for (const socket of sockets) socket.terminate();
      sns.destroy();
      sqs.destroy();
      events.destroy();
      doc.destroy();
      await stack.stop();
    },
  };
}

/** Polls until `check` passes; gives up after a generous bound so a broken build fails, not hangs. */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A ping answered: every frame the client sent before has been handled. */
export async function roundTrip(client: TestClient): Promise<void> {
  const reply = await client.request('ping');
  if (reply.type !== 'pong') throw new Error(`ping answered with ${JSON.stringify(reply)}`);
}

/**
 * Throws unless every queue holds nothing, neither waiting, in flight nor delayed: with
 * `eventually`, waits until all that was published has been handled, so that the absence
 * of something (a second mail) can be asserted.
 */
export async function queuesEmpty(sqs: SQSClient, queueUrls: readonly string[]): Promise<void> {
  for (const url of queueUrls) {
    const held = await heldIn(sqs, url);
    if (held > 0) throw new Error(`${url} holds ${held} message(s)`);
  }
}

/** The event ids in the first 100 items of `userId`'s inbox, newest first. */
export async function inboxEventIds(
  e2e: E2e,
  userId: string,
  claims?: TokenClaims,
): Promise<string[]> {
  const page = (await e2e.getJson('/notifications?limit=100', userId, claims)) as {
    items: Array<{ eventId: string }>;
  };
  return page.items.map((item) => item.eventId);
}
