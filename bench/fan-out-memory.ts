/**
 * Herald's fan-out at the largest K once more, alone in a fresh process whose V8 heap is
 * capped as a 256 MB Lambda's would be: what the memory target is about. In the benchmark's
 * own process (24 GB machine, everything else loaded) V8 collects garbage lazily, so its
 * peak heap says little about what the fan-out needs.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDocumentClient } from '#adapters/aws-clients';
import { runDirectly } from '#local/run-directly';
import { countDynamoRequests } from './dynamo-counter';
import { heraldFanOut, runHerald } from './fan-out-herald';
import { benchDynamoClient } from './fan-out-scenario';

export interface ConstrainedMemory {
  k: number;
  /** V8's old-space limit for the process, MB. */
  heapLimitMb: number;
  topicPeakRssMb: number;
  usersPeakRssMb: number;
  /** Set when the run did not finish (e.g. out of memory). */
  error?: string;
}

interface Job {
  dynamoEndpoint: string;
  callbackUrl: string;
  latencyMs: number;
  k: number;
  concurrency: number;
}

/** Old space for a 256 MB function: room left for code, buffers and the runtime. */
export const HEAP_LIMIT_MB = 200;

export async function measureFanOutMemory(job: Job): Promise<ConstrainedMemory> {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${HEAP_LIMIT_MB}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  try {
    return await new Promise<ConstrainedMemory>((resolve) => {
      child.once('message', (result: ConstrainedMemory) => resolve(result));
      child.once('exit', (code, signal) =>
        resolve({
          k: job.k,
          heapLimitMb: HEAP_LIMIT_MB,
          topicPeakRssMb: 0,
          usersPeakRssMb: 0,
          error: `exited (${code ?? signal}) ${/heap out of memory/i.test(stderr) ? 'out of memory' : (stderr.trim().split('\n').at(-1) ?? '')}`,
        }),
      );
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function run(job: Job): Promise<ConstrainedMemory> {
  const client = benchDynamoClient(job.dynamoEndpoint);
  try {
    const context = {
      doc: createDocumentClient(client),
      counter: countDynamoRequests(client),
      // Deliveries were checked in the main run; this one only watches memory.
      endpoint: {
        url: job.callbackUrl,
        reset: async () => undefined,
        stats: async () => ({ posts: job.k, distinct: job.k, maxInFlight: 0, bytes: 0 }),
      },
      latencyMs: job.latencyMs,
      queryTimes: [],
    };
    const herald = heraldFanOut(context, job.concurrency);
    const topic = await runHerald(context, herald, 'topic', job.k, job.concurrency);
    const users = await runHerald(context, herald, 'users', job.k, job.concurrency);
    return {
      k: job.k,
      heapLimitMb: HEAP_LIMIT_MB,
      topicPeakRssMb: topic.peakRssMb,
      usersPeakRssMb: users.peakRssMb,
    };
  } finally {
    client.destroy();
  }
}

if (runDirectly(import.meta.url)) {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  run(job).then(
    (result) => {
      process.send?.(result);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
