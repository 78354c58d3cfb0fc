/**
 * One open WebSocket connection of the emulator: its API Gateway identity (scope), activity,
 * idle and lifetime timers, the order its `$default` invocations run in, and why it closed.
 */
import type { WebSocket } from 'ws';
import type { ConnectionScope } from './events';

/** A close code and reason, as sent in the close frame and reported on `$disconnect`. */
export interface CloseCause {
  code: number;
  reason: string;
}

/** Why the gateway itself closes a connection. */
export const CLOSE_CAUSES = {
  // Seen in AWS `$disconnect` events: DeleteConnection, and the 10-minute idle timeout.
  deleted: { code: 1000, reason: 'Connection Closed Normally' },
  idle: { code: 1001, reason: 'Going away' },
  // AWS documents these codes (1009 too big, 1003 binary frame) but not their reason texts.
  maxDuration: { code: 1001, reason: 'Going away' },
  messageTooBig: { code: 1009, reason: 'Message too big' },
  binaryFrame: { code: 1003, reason: 'Binary frames are not supported' },
  shutdown: { code: 1001, reason: 'Going away' },
  // Herald's own guard (API Gateway queues in its fleet): a client outrunning its handler.
  queueFull: { code: 1008, reason: 'Too many frames queued' },
} as const satisfies Record<string, CloseCause>;

/** What `$disconnect` reports when the client closed: its code and reason, as AWS passes them. */
export function clientCloseCause(code: number, reason: string): CloseCause {
  if (code === 1005) return { code, reason: 'Client-side close frame status not set' };
  return { code, reason };
}

/** How long the client may take to answer our close frame before the socket is cut. */
const CLOSE_HANDSHAKE_MS = 1_000;

export interface ConnectionLimits {
  idleTimeoutMs: number;
  maxConnectionMs: number;
  /** Frames waiting for their `$default` invocation; one more closes the connection (1008). */
  maxQueuedFrames: number;
}

export class GatewayConnection {
  lastActiveAt: number;
  private cause: CloseCause | undefined;
  private work: Promise<void> = Promise.resolve();
  private queuedFrames = 0;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly lifetimeTimer: NodeJS.Timeout;

  constructor(
    readonly scope: ConnectionScope,
    private readonly socket: WebSocket,
    private readonly limits: ConnectionLimits,
  ) {
    this.lastActiveAt = scope.connectedAt;
    this.idleTimer = setTimeout(() => this.close(CLOSE_CAUSES.idle), limits.idleTimeoutMs);
    this.lifetimeTimer = setTimeout(
      () => this.close(CLOSE_CAUSES.maxDuration),
      Math.max(0, scope.connectedAt + limits.maxConnectionMs - Date.now()),
    );
    this.idleTimer.unref();
    this.lifetimeTimer.unref();
  }

  get id(): string {
    return this.scope.connectionId;
  }

  /** Open and not being closed: frames from it are routed, posts to it are delivered. */
  get live(): boolean {
    return this.cause === undefined && this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Data in either direction counts as activity: services on API Gateway keep idle clients
   * alive with server-sent messages alone (protocol pings are not counted).
   */
  touch(): void {
    this.lastActiveAt = Date.now();
    this.idleTimer.refresh();
  }

  /** Sends one text frame; false when the connection is no longer live. */
  send(data: string | Buffer): boolean {
    if (!this.live) return false;
    this.socket.send(data, { binary: false });
    this.touch();
    return true;
  }

  /** Closes from the gateway's side; the first cause given is the one `$disconnect` reports. */
  close(cause: CloseCause): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    this.stopTimers();
    this.socket.close(cause.code, cause.reason);
    setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
  }

  /** The cause `$disconnect` reports once the socket has closed with the client's code and reason. */
  closedWith(code: number, reason: string): CloseCause {
    this.stopTimers();
    this.cause ??= clientCloseCause(code, reason);
    return this.cause;
  }

  /**
   * Queues a client frame's invocation behind the others. A client that sends faster than its
   * frames are handled would otherwise grow this queue without bound: past the limit the
   * frame is dropped and the connection closed with 1008. False when it was refused.
   */
  enqueueFrame(task: () => Promise<void>): boolean {
    if (this.queuedFrames >= this.limits.maxQueuedFrames) {
      this.close(CLOSE_CAUSES.queueFull);
      return false;
    }
    this.queuedFrames += 1;
    void this.enqueue(task).finally(() => {
      this.queuedFrames -= 1;
    });
    return true;
  }

  /** Runs tasks one after another, so one connection's invocations keep their frame order. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.work.then(task);
    // A failed task must not stop the ones queued behind it.
    this.work = run.catch(() => undefined);
    return run;
  }

  private stopTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.lifetimeTimer);
  }
}
