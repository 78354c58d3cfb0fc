/**
 * End to end on the local stack: real `ws` clients holding dev tokens, notifications
 * published with `@aws-sdk/client-sns` at a steady rate, each carrying its publish time in
 * `data`, so every client measures publish-to-receive latency. In the same run, a bare
 * `ws` server pushes the same frames to the same number of clients: the floor this
 * machine sets. Clients and publisher run in a process of their own (`e2e-clients.ts`);
 * the stack, DynamoDB Local's JVM and they share the machine's cores.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { dynamoDocumentClient } from '#adapters/aws-clients';
import { parseEnvelope, toNotification } from '#core/envelope';
import { notificationFrame } from '#core/frames';
import { signDevToken } from '#local/dev-token';
import { startLocalStack } from '#local/stack';
import { countDynamoRequests, type DynamoCounts, subtractCounts } from './dynamo-counter';
import { atSteadyRate, type Clients, type PushRun, startClients } from './e2e-clients';

export type { PushRun } from './e2e-clients';

export interface EndToEndOptions {
  clients: number;
  users: number;
  /** Notifications published per second: one measured run per rate, on the same clients. */
  rates: number[];
  /** How long each run publishes, s. */
  seconds: number;
  /**
   * Seconds of the same load before measuring, so that the JITs of Node and of DynamoDB
   * Local's JVM have compiled the hot paths (a cold DynamoDB Local answers markedly
   * slower);  warm Lambdas and DynamoDB in AWS have no such phase.
   */
  warmSeconds: number;
  /** Email-only notifications sent after the in-app run, to count what email costs. */
  emails: number;
  log: (message: string) => void;
}

export interface RateRun {
  rate: number;
  notifications: number;
  /** Achieved publish rate (the publisher shares the machine too). */
  publishRate: number;
  herald: PushRun;
  floor: PushRun;
  /** DynamoDB requests and units of this run, all its notifications. */
  dynamo: DynamoCounts;
}

export interface EndToEndResult {
  clients: number;
  users: number;
  seconds: number;
  connectSeconds: number;
  runs: RateRun[];
  email: { requested: number; sent: number; dynamo: DynamoCounts };
}

const userFor = (index: number) => `e2e-user-${index}`;
const emailFor = (index: number) => `e2e-user-${index}@example.com`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Client i connects as user i mod users: how many connections user `user` has. */
export function connectionsOf(user: number, clients: number, users: number): number {
  return Math.floor(clients / users) + (user < clients % users ? 1 : 0);
}

/** Deliveries `count` one-user notifications (to users 0, 1, … round robin) should make. */
export function expectedDeliveries(count: number, clients: number, users: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += connectionsOf(i % users, clients, users);
  return total;
}

function envelopeFor(run: string, i: number, userId: string) {
  return {
    id: `${run}-${i}`,
    type: 'bench.notification',
    to: { users: [userId] },
    title: 'Benchmark notification',
    body: 'Published through SNS, pushed through the WebSocket gateway.',
    data: { seq: i },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export async function benchEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const { clients, users, log } = options;
  const side = startClients();
  try {
    const herald = await runHerald(options, side);
    const runs: RateRun[] = [];
    for (const measured of herald.runs) {
      const floor = await runFloor(options, side, measured.rate, measured.notifications);
      log(
        `end-to-end: ${measured.rate}/s: Herald p99 ${measured.herald.latency.p99} ms, bare ws p99 ${floor.latency.p99} ms`,
      );
      runs.push({ ...measured, floor });
    }
    return {
      clients,
      users,
      seconds: options.seconds,
      connectSeconds: herald.connectSeconds,
      runs,
      email: herald.email,
    };
  } finally {
    await side.stop();
  }
}

async function runHerald(options: EndToEndOptions, side: Clients) {
  const { clients, users, log } = options;
  const secret = randomBytes(32).toString('hex');
  const stack = await startLocalStack({
    ports: { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 },
    jwtSecret: secret,
    pollSeconds: 1,
    log: (message) => log(`local stack: ${message}`),
  });
  try {
    // The handlers' own client (made on first use, pointed at DynamoDB Local by now).
    const counter = countDynamoRequests(dynamoDocumentClient());
    const mailUsers = Math.min(options.emails, users);
    const tokens = await Promise.all(
      Array.from({ length: users }, (_, user) =>
        signDevToken({
          userId: userFor(user),
          secret,
          ...(user < mailUsers ? { email: emailFor(user) } : {}),
        }),
      ),
    );
    const { seconds: connectSeconds } = await side.ask({
      type: 'connect',
      urls: Array.from(
        { length: clients },
        (_, i) => `${stack.urls.websocket}/?token=${tokens[i % users] as string}`,
      ),
    });
    log(`end-to-end: ${clients} clients connected in ${connectSeconds.toFixed(1)} s`);
    const publish = (run: string, n: number, rate: number) =>
      side.ask({
        type: 'publish',
        sns: stack.urls.sns,
        topicArn: stack.topicArn,
        envelopes: Array.from({ length: n }, (_, i) => envelopeFor(run, i, userFor(i % users))),
        rate,
      });
    const delivered = async () => (await side.ask({ type: 'delivered' })).delivered;

    // Warm-up at the first rate; measured only once its queue has drained.
    const firstRate = options.rates[0] ?? 1;
    const warmCount = Math.max(1, Math.round(firstRate * options.warmSeconds));
    await side.ask({ type: 'watch', run: 'warm-' });
    await publish('warm-', warmCount, firstRate);
    await until(
      async () => (await delivered()) >= expectedDeliveries(warmCount, clients, users),
      60_000,
    );

    const runs: Array<Omit<RateRun, 'floor'>> = [];
    for (const rate of options.rates) {
      const count = Math.round(rate * options.seconds);
      const expected = expectedDeliveries(count, clients, users);
      const run = `e2e-${rate}-${Date.now()}-`;
      await side.ask({ type: 'watch', run });
      const before = counter.snapshot();
      const { rate: publishRate } = await publish(run, count, rate);
      await until(async () => (await delivered()) >= expected, 30_000);
      // Anything late or twice shows up in this second.
      await sleep(1_000);
      const dynamo = subtractCounts(counter.snapshot(), before);
      const { run: herald } = await side.ask({ type: 'result', expected });
      runs.push({ rate, notifications: count, publishRate, herald, dynamo });
    }
    // While the clients stay connected: their $disconnect work would be counted otherwise.
    const email = await emailRun(stack, mailUsers, counter);
    await side.ask({ type: 'close' });
    return { runs, connectSeconds, email };
  } finally {
    await stack.stop();
  }
}

/** Email-only notifications to users whose tokens carried an address; counts their requests. */
async function emailRun(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  count: number,
  counter: ReturnType<typeof countDynamoRequests>,
) {
  const mails = async () => {
    const store = (await (await fetch(`${stack.urls.ses}/store`)).json()) as { emails: unknown[] };
    return store.emails.length;
  };
  const before = counter.snapshot();
  if (count === 0) return { requested: 0, sent: 0, dynamo: subtractCounts(before, before) };
  const already = await mails();
  const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
  const sns = new SNSClient({
    endpoint: stack.urls.sns,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const run = `mail-${Date.now()}`;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        sns.send(
          new PublishCommand({
            TopicArn: stack.topicArn,
            Message: JSON.stringify({
              id: `${run}-${i}`,
              type: 'bench.digest',
              to: { users: [userFor(i)] },
              title: 'Your digest',
              body: 'Three things happened while you were away.',
              channels: ['email'],
            }),
          }),
        ),
      ),
    );
    let sent = 0;
    await until(async () => {
      sent = (await mails()) - already;
      return sent >= count;
    }, 30_000);
    await sleep(500);
    return { requested: count, sent, dynamo: subtractCounts(counter.snapshot(), before) };
  } finally {
    sns.destroy();
  }
}

/** A bare `ws` server pushing the same frames to as many clients, as the floor. */
async function runFloor(
  options: EndToEndOptions,
  side: Clients,
  rate: number,
  count: number,
): Promise<PushRun> {
  const { clients, users } = options;
  const expected = expectedDeliveries(count, clients, users);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const byUser = new Map<string, WebSocket[]>();
  server.on('connection', (socket, request) => {
    const user = new URL(request.url ?? '/', 'http://localhost').searchParams.get('user') ?? '';
    const list = byUser.get(user) ?? [];
    list.push(socket);
    byUser.set(user, list);
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  try {
    await side.ask({
      type: 'connect',
      urls: Array.from(
        { length: clients },
        (_, i) => `ws://127.0.0.1:${port}/?user=${encodeURIComponent(userFor(i % users))}`,
      ),
    });
    const push = async (run: string, n: number) => {
      await side.ask({ type: 'watch', run });
      await atSteadyRate(n, rate, async (i) => {
        const userId = userFor(i % users);
        const envelope = parseEnvelope(envelopeFor(run, i, userId));
        const frame = notificationFrame(
          toNotification(
            { ...envelope, data: { ...envelope.data, sentAt: Date.now() } },
            Date.now(),
          ),
        );
        for (const socket of byUser.get(userId) ?? []) {
          if (socket.readyState === WebSocket.OPEN) socket.send(frame);
        }
      });
    };
    await push('warm-', Math.max(1, Math.round(rate * Math.min(1, options.warmSeconds))));
    const run = `floor-${Date.now()}-`;
    await push(run, count);
    await until(async () => (await side.ask({ type: 'delivered' })).delivered >= expected, 30_000);
    await sleep(500);
    const { run: result } = await side.ask({ type: 'result', expected });
    await side.ask({ type: 'close' });
    return result;
  } finally {
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
