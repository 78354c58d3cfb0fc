/**
 * A small HTTP proxy in front of an emulator: each request is read whole, then either answered
 * with a fault (as the real service words it) or passed on to the emulator unchanged, so the
 * unmodified AWS SDK sees either the emulator's answer or the service's own error.
 */
import { Agent, createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface FaultProxyOptions {
  /** The emulator's base URL, e.g. `http://127.0.0.1:8000`. */
  target: string;
  /** 0 (the default) picks a free port. The proxy listens on loopback: only in-process handlers use it. */
  port?: number;
  /** The fault to answer this request with, or undefined to pass it on. */
  fault(request: IncomingMessage, body: Buffer): FaultAnswer | undefined;
}

export interface FaultProxy {
  url: string;
  stop(): Promise<void>;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = options.fault(req, body);
      if (answer) {
        res.writeHead(answer.status, {
          ...answer.headers,
          'Content-Length': Buffer.byteLength(answer.body),
        });
        res.end(answer.body);
        return;
      }
      const upstream = request(
        {
          agent,
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.on('error', () => {
        // The emulator is gone (stopping): the client sees a dropped connection, as it would.
        res.destroy();
      });
      upstream.end(body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return stopped;
    },
  };
}
