/**
 * The baselines Herald's fan-out is measured against, in the same run and against the same
 * endpoint: the floor (a bare keep-alive HTTP client), and the samples' naive fan-out (one
 * Scan, then `Promise.all` over every post, or a sequential loop).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { parseEnvelope, toNotification } from '#core/envelope';
import { notificationFrame } from '#core/frames';
import type { Audience } from '#core/model';
import { type DynamoCounts, emptyCounts, subtractCounts } from './dynamo-counter';
import {
  audienceFor,
  envelopeFor,
  type FanOutRow,
  nextRun,
  type RunContext,
  type Shape,
  TABLES,
} from './fan-out-scenario';
import { type Measured, timed } from './measure';
import { naiveFanOut } from './naive-fan-out';
import { topicFor } from './seed';

/**
 * The floor: K posts of a notification-sized body over one keep-alive agent with C
 * sockets, C in flight, no signing, no SDK, no DynamoDB.
 */
export async function runFloor(
  context: RunContext,
  k: number,
  concurrency: number,
): Promise<FanOutRow> {
  const { endpoint } = context;
  const url = new URL(endpoint.url);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const body = Buffer.from(
    notificationFrame(
      toNotification(
        parseEnvelope(envelopeFor(`floor-${k}-${concurrency}`, { topic: topicFor(k) })),
        Date.now(),
      ),
    ),
  );
  const post = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname.replace(/\/+$/, '')}/@connections/${encodeURIComponent(id)}`,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/octet-stream' },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    // Warm: sockets open and the path compiled, as Herald's container is warm.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => post(`floor-warm-${i}`)));
    await endpoint.reset();
    let next = 0;
    const measured = await timed(() =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < k) await post(`floor-${next++}`);
        }),
      ),
    );
    const stats = await endpoint.stats();
    const run = { system: 'floor', concurrency, shape: 'topic', k } as const;
    return baselineRow(context, run, measured, stats.posts, emptyCounts());
  } finally {
    agent.destroy();
  }
}

/** The SDK's default agent keeps 50 sockets per host: the naive fan-out's hidden bound. */
const SDK_DEFAULT_SOCKETS = 50;
let naiveClient: ApiGatewayManagementApiClient | undefined;

export async function runNaive(
  context: RunContext,
  shape: Shape,
  k: number,
  system: 'naive' | 'sequential',
): Promise<FanOutRow> {
  const { counter, endpoint, doc } = context;
  // As the samples make it: defaults throughout.
  naiveClient ??= new ApiGatewayManagementApiClient({ endpoint: endpoint.url });
  const management = naiveClient;
  const audiences = audienceFor(shape, k);
  const envelope = parseEnvelope(envelopeFor(`naive-${nextRun()}`, { topic: topicFor(k) }));
  const frame = notificationFrame(toNotification(envelope, Date.now()));
  const merged: Audience =
    shape === 'topic'
      ? { topic: topicFor(k) }
      : { users: audiences.flatMap((audience) => ('users' in audience ? audience.users : [])) };
  await endpoint.reset();
  const before = counter.snapshot();
  const measured = await timed(() =>
    naiveFanOut(
      {
        doc,
        tableName: TABLES.naive,
        post: async (connectionId, data) => {
          await management.send(
            new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }),
          );
        },
      },
      merged,
      frame,
      system === 'naive' ? 'unbounded' : 'sequential',
    ),
  );
  const dynamo = subtractCounts(counter.snapshot(), before);
  const stats = await endpoint.stats();
  if (measured.value.delivered !== k || stats.distinct !== k) {
    throw new Error(`${system} ${shape} K=${k}: delivered ${measured.value.delivered}`);
  }
  const concurrency = system === 'naive' ? SDK_DEFAULT_SOCKETS : 1;
  return baselineRow(context, { system, concurrency, shape, k }, measured, stats.posts, dynamo);
}

/** The row of a baseline: one message, one invocation, no page Queries of Herald's kind. */
function baselineRow(
  context: RunContext,
  run: Pick<FanOutRow, 'system' | 'concurrency' | 'shape' | 'k'>,
  measured: Measured<unknown>,
  posts: number,
  dynamo: DynamoCounts,
): FanOutRow {
  return {
    ...run,
    notifications: 1,
    invocations: 1,
    seconds: measured.seconds,
    delivered: posts,
    deliveriesPerSecond: posts / measured.seconds,
    bound: run.concurrency / (context.latencyMs / 1000),
    dynamo,
    queriesPerPage: 0,
    walkQueries: 0,
    cpuMs: measured.cpuMs,
    peakRssMb: measured.peakRssMb,
    rssGrowthMb: measured.rssGrowthMb,
    peakHeapMb: measured.peakHeapMb,
  };
}
