/**
 * The client side of the end-to-end run, in a process of its own so that a thousand
 * sockets and the publisher do not share the event loop of the stack they measure (they
 * still share the machine's two cores). Driven over IPC by `end-to-end.ts`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import WebSocket from 'ws';
import { runDirectly } from '#local/run-directly';
import { stopper } from './child-process';
import { type LatencySummary, summarize } from './stats';

export interface PushRun {
  expected: number;
  delivered: number;
  /** Frames a client received twice (the same notification id). */
  duplicates: number;
  latency: LatencySummary;
}

export type ClientCommand =
  | { type: 'connect'; urls: string[] }
  | { type: 'watch'; run: string }
  | {
      type: 'publish';
      sns: string;
      topicArn: string;
      envelopes: Array<Record<string, unknown>>;
      rate: number;
    }
  | { type: 'delivered' }
  | { type: 'result'; expected: number }
  | { type: 'close' };

export type ClientReply =
  | { type: 'connect'; seconds: number }
  | { type: 'watch' }
  | { type: 'publish'; rate: number }
  | { type: 'delivered'; delivered: number }
  | { type: 'result'; run: PushRun }
  | { type: 'close' };

/** Every notification of the watched run a client got, and how long after its publish. */
export class Receiver {
  readonly latencies: number[] = [];
  delivered = 0;
  duplicates = 0;
  /** Only notifications whose event id starts with this count. */
  private run = '\u0000';
  private seen: Array<Set<string>> = [];

  watch(run: string): void {
    this.run = run;
    this.latencies.length = 0;
    this.delivered = 0;
    this.duplicates = 0;
    this.seen = [];
  }

  /** Handles one frame a client received at `receivedAt`. */
  receive(client: number, text: string, receivedAt: number): void {
    const frame = JSON.parse(text) as {
      type?: string;
      notification?: { id?: string; eventId?: string; data?: { sentAt?: unknown } };
    };
    const notification = frame.notification;
    const sentAt = notification?.data?.sentAt;
    if (frame.type !== 'notification' || typeof sentAt !== 'number') return;
    if (!notification?.eventId?.startsWith(this.run)) return;
    const seen = this.seen[client] ?? new Set<string>();
    this.seen[client] = seen;
    const id = notification.id ?? '';
    if (seen.has(id)) {
      this.duplicates++;
      return;
    }
    seen.add(id);
    this.delivered++;
    this.latencies.push(receivedAt - sentAt);
  }

  result(expected: number): PushRun {
    return {
      expected,
      delivered: this.delivered,
      duplicates: this.duplicates,
      latency: summarize(this.latencies),
    };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `send(i)` for i < count at `rate` per second, on schedule rather than back to back. */
export async function atSteadyRate(
  count: number,
  rate: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  const started = Date.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(send(i));
  }
  await Promise.all(inFlight);
  return count / ((Date.now() - started) / 1000);
}

/** Opens sockets 25 at a time (a thousand handshakes at once would only queue). */
async function openAll(urls: string[], receiver: Receiver): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < urls.length; index = next++) {
      const socket = new WebSocket(urls[index] as string);
      sockets.push(socket);
      socket.on('message', (data) => receiver.receive(index, data.toString(), Date.now()));
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
        socket.once('unexpected-response', (_req, res) =>
          reject(new Error(`handshake answered ${res.statusCode}`)),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: 25 }, worker));
  return sockets;
}

export interface Clients {
  ask<T extends ClientReply['type']>(
    command: ClientCommand & { type: T },
  ): Promise<Extract<ClientReply, { type: T }>>;
  stop(): Promise<void>;
}

/** Forks the client process; `stop()` ends it (call it on failure too). */
export function startClients(): Clients {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = stopper(child);
  return {
    ask(command) {
      return new Promise((resolve, reject) => {
        const onExit = (code: number | null) =>
          reject(new Error(`client process exited (${code}) during ${command.type}`));
        child.once('exit', onExit);
        child.once('message', (reply: ClientReply & { error?: string }) => {
          child.off('exit', onExit);
          if (reply.error) reject(new Error(reply.error));
          else resolve(reply as Extract<ClientReply, { type: typeof command.type }>);
        });
        child.send(command);
      });
    },
    stop,
  };
}

async function serve(): Promise<void> {
  const receiver = new Receiver();
  let sockets: WebSocket[] = [];
  let sns: SNSClient | undefined;
  const handle = async (command: ClientCommand): Promise<ClientReply> => {
    switch (command.type) {
      case 'connect': {
        for (const socket of sockets) socket.terminate();
        const started = performance.now();
        sockets = await openAll(command.urls, receiver);
        return { type: 'connect', seconds: (performance.now() - started) / 1000 };
      }
      case 'watch':
        receiver.watch(command.run);
        return { type: 'watch' };
      case 'publish': {
        sns ??= new SNSClient({
          endpoint: command.sns,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        });
        const client = sns;
        const rate = await atSteadyRate(command.envelopes.length, command.rate, async (i) => {
          // The publish time rides in `data`, set the moment the request leaves.
          const envelope = command.envelopes[i] as { data?: Record<string, unknown> };
          const stamped = { ...envelope, data: { ...envelope.data, sentAt: Date.now() } };
          await client.send(
            new PublishCommand({ TopicArn: command.topicArn, Message: JSON.stringify(stamped) }),
          );
        });
        return { type: 'publish', rate };
      }
      case 'delivered':
        return { type: 'delivered', delivered: receiver.delivered };
      case 'result':
        return { type: 'result', run: receiver.result(command.expected) };
      case 'close':
        for (const socket of sockets) socket.terminate();
        sockets = [];
        return { type: 'close' };
    }
  };
  process.on('message', (command: ClientCommand) => {
    handle(command).then(
      (reply) => process.send?.(reply),
      (error: unknown) =>
        process.send?.({
          type: command.type,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  process.on('disconnect', () => {
    for (const socket of sockets) socket.terminate();
    sns?.destroy();
    process.exit(0);
  });
}

if (runDirectly(import.meta.url)) void serve();
