/**
 * `npm start` as a user runs it: a child process in its own process group, on free ports
 * (so it cannot collide with a developer's running stack or other test files). It must come
 * up and answer on the URLs it prints, then stop on SIGTERM or Ctrl-C with exit code 0,
 * leaving no port bound and no process behind, DynamoDB Local's java included.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEV_JWT_SECRET, signDevToken } from '#local/dev-token';
import { PORT_VARIABLES } from '#local/settings';
import type { LocalPorts } from '#local/stack';

/** Generous: a cold start compiles TypeScript and boots java on a busy 2-core machine. */
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 30_000;
const READY_LINE = 'Herald is running';
/** The banner's last line: every URL has been printed once it is there. */
const BANNER_END = 'Ctrl-C stops everything';
const GROUP_GRACE_MS = 10_000;

interface Launched {
  child: ChildProcess;
  ports: LocalPorts;
  /** Everything the child wrote so far, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once the test saw the whole process group gone. */
  groupGone: boolean;
}

const launched: Launched[] = [];
const sockets: WebSocket[] = [];

// A child in its own process group outlives a crashed test, and a launcher killed hard leaves
// its children (java) behind in the group: kill every group not proven empty.
const killGroups = () => {
  for (const { child, groupGone } of launched) {
    if (child.pid === undefined || groupGone) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
process.once('exit', killGroups);

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  // Only does something when a test failed before its child stopped.
  killGroups();
  await Promise.all(launched.map((each) => each.exited));
  process.off('exit', killGroups);
});

/** Free ports, all held at once while asked for so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address !== null ? address.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * The command of package.json's `start` script (plain words, no shell syntax), so this test
 * runs whatever `npm start` runs. npm puts `node_modules/.bin` first on the PATH.
 */
async function startCommand(): Promise<{ command: string; args: string[] }> {
  const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const [bin, ...args] = (manifest.scripts?.start ?? '').split(/\s+/).filter(Boolean);
  if (bin === undefined) throw new Error('package.json has no "start" script');
  return { command: bin === 'node' ? process.execPath : `node_modules/.bin/${bin}`, args };
}

async function launch(): Promise<Launched> {
  const names = Object.keys(PORT_VARIABLES) as Array<keyof LocalPorts>;
  const free = await freePorts(names.length);
  const ports: LocalPorts = { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 };
  names.forEach((name, i) => {
    const port = free[i];
    if (port === undefined) throw new Error('not enough free ports');
    ports[name] = port;
  });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of names) env[PORT_VARIABLES[name]] = String(ports[name]);
  // The dev secret, as for a developer with nothing configured.
  delete env.HERALD_JWT_SECRET;

  // `npm start`'s command, without npm in between; detached: its own process group.
  const { command, args } = await startCommand();
  const child = spawn(command, args, {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      text += `\nspawn failed: ${error.message}`;
      resolve({ code: null, signal: null });
    });
  });
  const started: Launched = { child, ports, output: () => text, exited, groupGone: false };
  launched.push(started);
  return started;
}

async function waitForReady({ child, output, exited }: Launched): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (!(output().includes(READY_LINE) && output().includes(BANNER_END))) {
    if (gone || Date.now() > deadline) {
      throw new Error(
        `npm start (pid ${child.pid}) ${gone ? `exited with ${child.exitCode ?? child.signalCode}` : `did not print "${READY_LINE}" within ${READY_TIMEOUT_MS / 1000} s`}. Its output:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The URL printed after `label` in the banner. */
function printedUrl(output: string, label: string): URL {
  const match = new RegExp(`${label}\\s+((?:http|ws)://\\S+)`).exec(output);
  if (match?.[1] === undefined) throw new Error(`no "${label}" URL in:\n${output}`);
  return new URL(match[1]);
}

/** What pgrep prints for `args`: none when nothing matched. */
function pgrep(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('pgrep', args, (error, stdout) => {
      // pgrep exits 1 when nothing matched.
      if (error && error.code !== 1) reject(error);
      else resolve(stdout.split('\n').filter(Boolean));
    });
  });
}

const javaOnPort = (port: number) => pgrep(['-f', `DynamoDBLocal\\.jar.* -port ${port}( |$)`]);

/** Whether any process is left in the group, zombies included (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** `ps` lines of the group's processes, with their state, for a failure message. */
function groupMembers(pgid: number): Promise<string> {
  return new Promise((resolve) => {
    execFile('ps', ['-eo', 'pid=,pgid=,stat=,args='], (_error, stdout) =>
      resolve(
        stdout
          .split('\n')
          .filter((line) => line.trim().split(/\s+/)[1] === String(pgid))
          .join('\n'),
      ),
    );
  });
}

/**
 * Waits, within a bound, for the group to be empty. The launcher's esbuild service children
 * (tsx's transformer and the demo's bundler) end when their stdin closes, which is just after
 * the launcher exits, and are then reaped by init at its own pace: a short grace, not a leak.
 */
async function waitForGroupGone(pgid: number): Promise<boolean> {
  const deadline = Date.now() + GROUP_GRACE_MS;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** Resolves with the connect error's code, or 'connected' if something still listens. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function checkItAnswers(started: Launched): Promise<void> {
  const text = started.output();
  const page = printedUrl(text, 'Demo page and HTTP API');
  const websocket = printedUrl(text, 'WebSocket');
  expect(Number(page.port)).toBe(started.ports.http);
  expect(Number(websocket.port)).toBe(started.ports.websocket);

  const html = await fetch(page);
  expect(html.status).toBe(200);
  expect(html.headers.get('content-type')).toMatch(/text\/html/);
  expect(await html.text()).toContain('data-testid="signin-button"');

  const config = await fetch(new URL('/dev/config', page));
  expect(config.status).toBe(200);
  expect(await config.json()).toMatchObject({
    websocketUrl: expect.stringContaining(`:${started.ports.websocket}`),
    topicArn: expect.stringContaining('herald-notifications'),
  });

  const token = await signDevToken({ userId: 'start-test', secret: DEV_JWT_SECRET });
  const socket = new WebSocket(`${websocket.origin}/?token=${token}`);
  sockets.push(socket);
  const pong = await new Promise<unknown>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`WebSocket handshake answered HTTP ${response.statusCode}`)),
    );
    socket.once('open', () => socket.send(JSON.stringify({ action: 'ping', requestId: 'p1' })));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string };
      if (frame.type === 'pong') resolve(frame);
    });
  });
  expect(pong).toMatchObject({ type: 'pong' });
  // The server side of this socket must not keep the stack from stopping: leave it open.

  await expectMetricsPrinted(started, text, socket);
}

/** What CloudWatch reads from a Lambda's output: one JSON line with `_aws.CloudWatchMetrics`. */
function emfLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"CloudWatchMetrics"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A published notification reaches the socket, and the fan-out's metrics appear as EMF. */
async function expectMetricsPrinted(started: Launched, text: string, socket: WebSocket) {
  const { topicArn } = (await (
    await fetch(new URL('/dev/config', printedUrl(text, 'Demo page and HTTP API')))
  ).json()) as { topicArn: string };
  const pushed = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'notification') resolve();
    });
  });
  const sns = new SNSClient({
    endpoint: printedUrl(text, 'SNS and SQS \\(fauxqs\\)').origin,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify({
          id: 'start-metrics',
          type: 'test.metrics',
          to: { users: ['start-test'] },
        }),
      }),
    );
  } finally {
    sns.destroy();
  }
  await pushed;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const latency = () =>
    emfLines(started.output()).find((line) => typeof line.PublishToPushLatency === 'number');
  while (latency() === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(latency(), `no PublishToPushLatency EMF line in:\n${started.output()}`).toMatchObject({
    _aws: { CloudWatchMetrics: [expect.objectContaining({ Namespace: 'Herald' })] },
    Delivered: 1,
  });
}

/**
 * SIGTERM goes to the launcher alone, as `kill <pid>` or a process manager sends it; Ctrl-C
 * (SIGINT) goes to the whole foreground process group, as a terminal sends it.
 */
async function stopWith(signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  const started = await launch();
  const pid = started.child.pid;
  if (pid === undefined) throw new Error(`npm start did not spawn:\n${started.output()}`);
  await waitForReady(started);
  await checkItAnswers(started);
  // Found before stopping, so that "none after" proves something.
  expect(await javaOnPort(started.ports.dynamodb)).toHaveLength(1);

  process.kill(signal === 'SIGINT' ? -pid : pid, signal);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () =>
        reject(new Error(`npm start still running ${EXIT_TIMEOUT_MS / 1000} s after ${signal}`)),
      EXIT_TIMEOUT_MS,
    ).unref(),
  );
  const result = await Promise.race([started.exited, timeout]);
  expect(result, `exit after ${signal}; output:\n${started.output()}`).toEqual({
    code: 0,
    signal: null,
  });

  for (const [name, port] of Object.entries(started.ports)) {
    expect(await probe(port), `${name} port ${port} after ${signal}`).toBe('ECONNREFUSED');
  }
  expect(await javaOnPort(started.ports.dynamodb)).toEqual([]);
  const gone = await waitForGroupGone(pid);
  started.groupGone = gone;
  expect(gone, `processes left in group ${pid}:\n${await groupMembers(pid)}`).toBe(true);
}

describe('npm start', () => {
  it('serves the printed URLs, and SIGTERM stops everything with exit code 0', async () => {
    await stopWith('SIGTERM');
  }, 150_000);

  it('stops everything with exit code 0 on Ctrl-C (SIGINT to the process group)', async () => {
    await stopWith('SIGINT');
  }, 150_000);
});
