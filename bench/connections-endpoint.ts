/**
 * A stand-in for API Gateway's `@connections` management API that answers every
 * PostToConnection after a fixed latency, and counts what it received. It runs in its own
 * process (`startConnectionsEndpoint`), so its event loop never competes with the fan-out
 * being measured on the same core.
 */
import { fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { runDirectly } from '#local/run-directly';
import { stopper } from './child-process';

export interface EndpointStats {
  /** Posts answered. */
  posts: number;
  /** Distinct connection ids posted to. */
  distinct: number;
  /** Most posts held at once (waiting out the latency). */
  maxInFlight: number;
  /** Body bytes received. */
  bytes: number;
}

/** Ids whose posts the endpoint answers 410 Gone, as API Gateway does for a closed connection. */
export const GONE_PREFIX = 'gone-';

/** The request handler: waits `latencyMs`, answers 200 (or 410 for a gone id), counts. */
export function connectionsHandler(latencyMs: number) {
  const seen = new Set<string>();
  const stats: EndpointStats = { posts: 0, distinct: 0, maxInFlight: 0, bytes: 0 };
  let inFlight = 0;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const id = connectionIdOf(req.url ?? '/');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (id === undefined) return answer(res, 404);
        if (id.startsWith(GONE_PREFIX)) return answer(res, 410, 'GoneException');
        stats.posts++;
        stats.bytes += bytes;
        seen.add(id);
        stats.distinct = seen.size;
        answer(res, 200);
      }, latencyMs);
    });
  }

  return {
    handle,
    stats: (): EndpointStats => ({ ...stats }),
    reset(): void {
      seen.clear();
      Object.assign(stats, { posts: 0, distinct: 0, maxInFlight: 0, bytes: 0 });
    },
  };
}

/** `/@connections/{id}` or `/{stage}/@connections/{id}`, URL-decoded. */
export function connectionIdOf(url: string): string | undefined {
  const match = /\/@connections\/([^/?]+)/.exec(url);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

function answer(res: ServerResponse, status: number, errorType?: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': 0,
    ...(errorType && { 'x-amzn-ErrorType': errorType }),
  });
  res.end();
}

export interface ConnectionsEndpoint {
  /** The callback URL to hand to `createSignedPostDelivery`. */
  url: string;
  stats(): Promise<EndpointStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

type ToChild = { type: 'stats' | 'reset'; id: number };
type FromChild =
  | { type: 'listening'; port: number }
  | { type: 'stats'; id: number; stats: EndpointStats }
  | { type: 'reset'; id: number };

/** Forks the endpoint on a free port; `stop()` kills it (also call it on failure). */
export async function startConnectionsEndpoint(latencyMs: number): Promise<ConnectionsEndpoint> {
  const child = fork(fileURLToPath(import.meta.url), [String(latencyMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = stopper(child);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`endpoint exited with ${code}`)));
      child.on('message', (message: FromChild) => {
        if (message.type === 'listening') resolve(message.port);
      });
    });
    let next = 0;
    const ask = <T extends FromChild>(type: ToChild['type']) =>
      new Promise<T>((resolve) => {
        const id = ++next;
        const onMessage = (message: FromChild) => {
          if (message.type === type && 'id' in message && message.id === id) {
            child.off('message', onMessage);
            resolve(message as T);
          }
        };
        child.on('message', onMessage);
        child.send({ type, id } satisfies ToChild);
      });
    return {
      url: `http://127.0.0.1:${port}`,
      stats: async () => (await ask<Extract<FromChild, { type: 'stats' }>>('stats')).stats,
      reset: async () => {
        await ask('reset');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (runDirectly(import.meta.url)) {
  const latencyMs = Number(process.argv[2] ?? 15);
  const endpoint = connectionsHandler(latencyMs);
  // Keep-alive sockets live as long as the fan-out's agent keeps them.
  const server = createServer({ keepAliveTimeout: 60_000 }, endpoint.handle);
  server.maxHeadersCount = 100;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.send?.({ type: 'listening', port } satisfies FromChild);
  });
  process.on('message', (message: ToChild) => {
    if (message.type === 'reset') endpoint.reset();
    if (message.type === 'stats') {
      process.send?.({
        type: 'stats',
        id: message.id,
        stats: endpoint.stats(),
      } satisfies FromChild);
    } else {
      process.send?.({ type: 'reset', id: message.id } satisfies FromChild);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
