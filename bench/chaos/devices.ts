/**
 * The devices of a chaos run: real `ws` clients holding dev tokens, each keeping the ids of
 * the notifications it received (pushed or replayed) and counting the ones it got twice.
 * A device going offline drops its socket; coming back it opens a new one and replays what
 * it missed with `resume` from the newest id it saw, as the browser client does.
 */
import WebSocket from 'ws';

export interface DeviceTally {
  user: number;
  resumed: boolean;
  /** The cursor it resumed from: the newest id it had seen when it went offline. */
  resumedFrom?: string;
  /** Distinct notification ids received. */
  received: Set<string>;
  /** Notification frames whose id the device already had (pushed twice, or pushed and replayed). */
  duplicates: number;
  /** Notifications replayed by `resume`. */
  replayed: number;
  /** `resume` refused (`resume_gap`) or failed. */
  resumeFailures: string[];
}

interface Frame {
  type?: string;
  requestId?: string;
  ok?: boolean;
  result?: { replayed?: number; more?: boolean; last?: string };
  error?: { code?: string; message?: string };
  notification?: { id?: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Device {
  readonly tally: DeviceTally;
  private socket: WebSocket | undefined;
  private newestId: string | undefined;
  private requests = 0;
  private readonly replies = new Map<string, (frame: Frame) => void>();

  constructor(
    private readonly url: string,
    user: number,
  ) {
    this.tally = {
      user,
      resumed: false,
      received: new Set(),
      duplicates: 0,
      replayed: 0,
      resumeFailures: [],
    };
  }

  /** The newest notification id seen, or none yet. */
  get cursor(): string | undefined {
    return this.newestId;
  }

  async connect(): Promise<void> {
    // A handshake retried after a failure leaves nothing behind.
    this.socket?.terminate();
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.on('message', (data) => this.receive(data.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`handshake answered ${response.statusCode}`)),
      );
    });
  }

  /** Drops the connection: cleanly (a close frame) or abruptly (a lost network). */
  disconnect(abruptly: boolean): void {
    const socket = this.socket;
    this.socket = undefined;
    if (abruptly) socket?.terminate();
    else socket?.close(1000, 'going offline');
  }

  /** Reconnects and replays everything after the newest id seen, round after round. */
  async resume(): Promise<void> {
    await this.connect();
    this.tally.resumed = true;
    this.tally.resumedFrom ??= this.newestId;
    const since = this.newestId;
    if (since === undefined) return;
    // Each round keeps the cursor and goes on after where the last one stopped.
    let after: string | undefined;
    let failures = 0;
    for (let round = 0; round < 1_000; round++) {
      const reply = await this.request(
        'resume',
        after === undefined ? { since } : { since, after },
      );
      if (reply.ok !== true) {
        this.tally.resumeFailures.push(`${reply.error?.code}: ${reply.error?.message}`);
        // A gap cannot be replayed; anything else (a throttled read) is asked again.
        if (reply.error?.code === 'resume_gap' || ++failures >= 5) return;
        await sleep(200 * failures);
        continue;
      }
      this.tally.replayed += reply.result?.replayed ?? 0;
      if (reply.result?.more !== true) return;
      after = reply.result.last;
    }
  }

  /** Marks notifications read over the socket (`markRead`), asking again after a failure. */
  async markRead(ids: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const reply = await this.request('markRead', { ids });
      if (reply.ok === true) return;
      if (attempt >= 5) throw new Error(`markRead failed: ${reply.error?.code}`);
      await sleep(200 * attempt);
    }
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  private request(action: string, args: Record<string, unknown>): Promise<Frame> {
    const requestId = `r${++this.requests}`;
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      this.replies.set(requestId, resolve);
      socket.once('close', () => reject(new Error(`socket closed during ${action}`)));
      socket.send(JSON.stringify({ action, requestId, ...args }));
    });
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as Frame;
    if (frame.requestId !== undefined) {
      this.replies.get(frame.requestId)?.(frame);
      this.replies.delete(frame.requestId);
      return;
    }
    const id = frame.notification?.id;
    if (frame.type !== 'notification' || typeof id !== 'string') return;
    if (this.tally.received.has(id)) {
      this.tally.duplicates++;
      return;
    }
    this.tally.received.add(id);
    if (this.newestId === undefined || id > this.newestId) this.newestId = id;
  }
}

/** Runs `task` over `items`, `concurrency` at a time (a thousand handshakes at once only queue). */
export async function inTurns<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Retries a handshake a few times: under faults, `$connect` itself may be throttled. */
export async function connectWithRetries(connect: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(200 * attempt);
    }
  }
}
