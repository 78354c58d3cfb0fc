/**
 * What every fan-out run shares: the systems compared and the audience shapes, the row a run
 * yields, the bench's tables and its DynamoDB Local client, the envelope a publisher sends,
 * and the context runs are measured in.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoRequestHandler } from '#adapters/aws-clients';
import { ENVELOPE_LIMITS } from '#core/envelope';
import type { Audience } from '#core/model';
import type { ConnectionsEndpoint } from './connections-endpoint';
import type { countDynamoRequests, DynamoCounts } from './dynamo-counter';
import { BENCH_TENANT, topicFor, userFor } from './seed';

/**
 * `floor`: a bare keep-alive HTTP client posting the same frames to the same endpoint at
 * the same concurrency, nothing else: what this machine allows any fan-out at that C.
 */
export type System = 'herald' | 'naive' | 'sequential' | 'floor';
export type Shape = 'topic' | 'users';

export interface FanOutRow {
  system: System;
  /** PostToConnection calls in flight at most (Herald's setting; the SDK's 50 sockets for naive). */
  concurrency: number;
  shape: Shape;
  k: number;
  /** Published envelopes (one per 1,000 users: the envelope's limit). */
  notifications: number;
  /** Invocations of the handler (publish batch plus continuation batches). */
  invocations: number;
  seconds: number;
  delivered: number;
  deliveriesPerSecond: number;
  /** concurrency ÷ L: what posting alone allows. */
  bound: number;
  dynamo: DynamoCounts;
  /** Page Query requests per page of recipients (topic) or per recipient (users). */
  queriesPerPage: number;
  /** Query requests of a broadcast's keys-only walk (not pages of recipients). */
  walkQueries: number;
  cpuMs: number;
  peakRssMb: number;
  /** How much RSS grew during the run over what the process held before it. */
  rssGrowthMb: number;
  peakHeapMb: number;
}

export const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
export const TABLES = {
  connections: 'bench-herald-connections',
  notifications: 'bench-herald-notifications',
  naive: 'bench-naive-connections',
};

/** A client of the bench's DynamoDB Local, configured as the deployed handler's. */
export function benchDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    // As the deployed handler's client (functions/adapters/aws-clients.ts).
    requestHandler: dynamoRequestHandler(),
  });
}

/** What a run is measured with: the tables, the request counter, the `@connections` stand-in. */
export interface RunContext {
  doc: DynamoDBDocumentClient;
  counter: ReturnType<typeof countDynamoRequests>;
  endpoint: Pick<ConnectionsEndpoint, 'url' | 'stats' | 'reset'>;
  latencyMs: number;
  queryTimes: number[];
}

/** A notification as a publisher would send it: a title, a body, a little data. */
export function envelopeFor(id: string, to: Audience): Record<string, unknown> {
  return {
    id,
    type: 'comment.created',
    to,
    tenant: BENCH_TENANT,
    title: 'New comment on your post',
    body: 'Bob replied: sounds good, ship it on Thursday.',
    data: { postId: 42, commentId: 1337 },
    url: 'https://app.example/posts/42#c1337',
  };
}

/** One envelope for a topic; for K users, one per 1,000 users (the envelope's limit). */
export function audienceFor(shape: Shape, k: number): Audience[] {
  if (shape === 'topic') return [{ topic: topicFor(k) }];
  const audiences: Audience[] = [];
  for (let start = 0; start < k; start += ENVELOPE_LIMITS.users) {
    const users: string[] = [];
    for (let i = start; i < Math.min(k, start + ENVELOPE_LIMITS.users); i++) users.push(userFor(i));
    audiences.push({ users });
  }
  return audiences;
}

let runs = 0;

/** Numbers the runs of this process, so every run's envelope ids are its own. */
export function nextRun(): number {
  return ++runs;
}
