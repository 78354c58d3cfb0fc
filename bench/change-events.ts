/**
 * Change events (`channels: ["live"]`) through Herald's real fan-out handler, in the same
 * run and against the same DynamoDB Local and `@connections` stand-in as the notifications:
 * one-recipient change events (what each costs with nothing to coalesce), and a burst of
 * change events with one `collapseKey` to one user, its SQS batches handled side by side as
 * concurrent Lambdas would (what coalescing makes of it).
 */
import { lambdaContext } from '#local/lambda-context';
import { type Cost, costPerMillion, inAppUsage, messageUnits } from './cost-model';
import { type DynamoCounts, subtractCounts } from './dynamo-counter';
import type { HeraldFanOut, SingleRecipientRun } from './fan-out-herald';
import { nextRun, type RunContext } from './fan-out-scenario';
import { timed } from './measure';
import { BENCH_TENANT, userFor } from './seed';
import { publishRecord, sqsEvent } from './sqs-events';

/** A change event as an app would publish one: what changed, for the client to refetch. */
export function changeEnvelopeFor(
  id: string,
  to: { users: string[] } | { topic: string },
  collapseKey?: string,
): Record<string, unknown> {
  return {
    id,
    type: 'events-changed',
    to,
    tenant: BENCH_TENANT,
    channels: ['live'],
    data: { streamId: 'diary', eventId: 1337 },
    ...(collapseKey === undefined ? {} : { collapseKey }),
  };
}

export interface ChangeBurstRun {
  events: number;
  batchSize: number;
  invocations: number;
  seconds: number;
  cpuMs: number;
  dynamo: DynamoCounts;
  /** Frames the one connection got. */
  posts: number;
}

/** `count` change events with one collapse key to one user, all batches handled at once. */
export async function runChangeBurst(
  context: RunContext,
  herald: HeraldFanOut,
  count: number,
  batchSize: number,
): Promise<ChangeBurstRun> {
  const { counter, endpoint } = context;
  const run = nextRun();
  const to = { users: [userFor(0)] };
  const batches: ReturnType<typeof sqsEvent>[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const publishedAt = Date.now();
    batches.push(
      sqsEvent(
        Array.from({ length: Math.min(batchSize, count - start) }, (_, n) =>
          publishRecord(
            changeEnvelopeFor(`burst-${run}-${start + n}`, to, `doc-${run}`),
            publishedAt,
          ),
        ),
      ),
    );
  }
  await endpoint.reset();
  const before = counter.snapshot();
  const measured = await timed(() =>
    Promise.all(
      batches.map(async (event) => {
        const response = await herald.handler(event, lambdaContext('herald-fan-out'));
        if (response.batchItemFailures.length > 0) throw new Error('a change-event record failed');
      }),
    ),
  );
  const stats = await endpoint.stats();
  if (stats.posts < 1 || stats.distinct !== 1) {
    throw new Error(`change burst: ${stats.posts} posts to ${stats.distinct} connections`);
  }
  return {
    events: count,
    batchSize,
    invocations: batches.length,
    seconds: measured.seconds,
    cpuMs: measured.cpuMs,
    dynamo: subtractCounts(counter.snapshot(), before),
    posts: stats.posts,
  };
}

/** What a million change events cost, one at a time and in a coalesced burst. */
export function changeCosts(
  runs: { single: SingleRecipientRun; burst: ChangeBurstRun },
  memoryMb: number,
  lambdaMs: (wallMs: number, cpuMs: number, memoryMb: number) => number,
): { single: Cost; burst: Cost } {
  const { single, burst } = runs;
  const singleUsage = inAppUsage({
    dynamoWriteUnits: single.dynamo.writeUnits / single.notifications,
    dynamoReadUnits: single.dynamo.readUnits / single.notifications,
    frameBytes: single.frameBytes,
    lambdaMsPerNotification:
      lambdaMs(single.seconds * 1000, single.cpuMs, memoryMb) / single.notifications,
    memoryMb,
    batchSize: single.batchSize,
  });
  const burstUsage = {
    ...inAppUsage({
      dynamoWriteUnits: burst.dynamo.writeUnits / burst.events,
      dynamoReadUnits: burst.dynamo.readUnits / burst.events,
      frameBytes: single.frameBytes,
      // Every invocation billed for the whole burst: an upper bound.
      lambdaMsPerNotification: (burst.seconds * 1000 * burst.invocations) / burst.events,
      memoryMb,
      batchSize: burst.batchSize,
    }),
    apiGatewayMessage: (burst.posts / burst.events) * messageUnits(single.frameBytes),
  };
  return { single: costPerMillion(singleUsage), burst: costPerMillion(burstUsage) };
}
