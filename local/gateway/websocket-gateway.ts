/**
 * A local stand-in for an API Gateway WebSocket API (community LocalStack has none): a real
 * `ws` server that runs a Lambda REQUEST authorizer and the `$connect`, `$default` and
 * `$disconnect` handlers in-process with events shaped as AWS shapes them, enforces AWS's
 * frame, message, idle and duration limits, and serves the `@connections` management API on
 * the same port. It knows no handler: the launcher passes them in.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { ConnectionFaults } from '#local/faults/connection-faults';
import { lambdaContext } from '#local/lambda-context';
import { listen } from '#local/server-lifecycle';
import { CLOSE_CAUSES, type CloseCause, GatewayConnection } from './connection';
import { apiIdLike, type ConnectionScope, disconnectEvent, messageEvent } from './events';
import { watchFrameSizes } from './frame-limit';
import { refuse, runHandshake } from './handshake';
import { asLambdaEvent, bodyOf, type WebSocketHandlers } from './lambda-integration';
import { type GatewayLog, managementApi } from './management-api';

export type { WebSocketHandlers } from './lambda-integration';
export type { GatewayLog } from './management-api';

export interface GatewayLimits {
  /** Message payload size: a message over it closes the connection with 1009. */
  maxMessageBytes: number;
  /** WebSocket frame size: a client frame over it closes the connection with 1009. */
  maxFrameBytes: number;
  idleTimeoutMs: number;
  maxConnectionMs: number;
  /** Frames of one connection waiting for `$default`; past it the connection closes (1008). */
  maxQueuedFrames: number;
}

/** API Gateway's WebSocket quotas, none of which can be raised (and the emulator's queue bound). */
export const AWS_LIMITS: GatewayLimits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60_000,
  maxConnectionMs: 2 * 60 * 60_000,
  maxQueuedFrames: 100,
};

export interface WebSocketGatewayOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** `requestContext.stage`, the stage in `methodArn`, and an accepted path prefix. */
  stage?: string;
  /** `requestContext.apiId`; a random AWS-like id when absent. */
  apiId?: string;
  handlers: WebSocketHandlers;
  limits?: Partial<GatewayLimits>;
  log?: GatewayLog;
  /** `@connections` faults injected on demand; none when absent. */
  faults?: ConnectionFaults;
}

export interface WebSocketGateway {
  /** Where clients connect, e.g. `ws://127.0.0.1:3001`. */
  url: string;
  /** The `@connections` endpoint for the management API client, e.g. `http://127.0.0.1:3001`. */
  callbackUrl: string;
  port: number;
  apiId: string;
  stage: string;
  connectionIds(): string[];
  /** Closes every connection (each fires `$disconnect`) and the server. Idempotent. */
  stop(): Promise<void>;
}

export async function startWebSocketGateway(
  options: WebSocketGatewayOptions,
): Promise<WebSocketGateway> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const apiId = options.apiId ?? apiIdLike();
  const limits: GatewayLimits = { ...AWS_LIMITS, ...options.limits };
  const log: GatewayLog = options.log ?? (() => undefined);
  const { handlers } = options;

  /** Registered from the completed upgrade until `$disconnect` has run. */
  const connections = new Map<string, GatewayConnection>();
  const upgrades = new Set<Promise<void>>();
  const lifetimes = new Set<Promise<void>>();
  /** The subprotocol each `$connect` chose (its `Sec-WebSocket-Protocol` response header). */
  const protocols = new WeakMap<IncomingMessage, string>();
  let stopping: Promise<void> | undefined;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    // API Gateway does not negotiate compression.
    perMessageDeflate: false,
    // Unlike `ws`, API Gateway never picks a subprotocol itself: only `$connect` can.
    handleProtocols: (_offered, req) => protocols.get(req) ?? false,
  });

  const management = managementApi({
    stage,
    maxMessageBytes: limits.maxMessageBytes,
    lookup: (connectionId) => connections.get(connectionId),
    log,
    faults: options.faults,
  });
  const server = createServer((req, res) => {
    management(req, res).catch((error: unknown) => {
      log('error', '@connections request failed', { error });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const work = upgrade(req, socket, head).catch((error: unknown) => {
      log('error', 'WebSocket upgrade failed', { error });
      socket.destroy();
    });
    track(upgrades, work);
  });

  const port = await listen(server, options.port, host);
  const urlHost = ['0.0.0.0', '::'].includes(host)
    ? '127.0.0.1'
    : host.includes(':')
      ? `[${host}]`
      : host;
  log('info', 'WebSocket gateway listening', { port, stage, apiId });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', (error) => log('debug', 'upgrade socket error', { error }));
    if (stopping) return refuse(socket, 503, 'Service Unavailable');
    const handshake = await runHandshake(req, { apiId, stage, port, handlers, log });
    if (!handshake.accepted) return refuse(socket, handshake.status, handshake.message);

    const { scope, protocol } = handshake;
    if (socket.destroyed) {
      // The client left while $connect ran; the handlers saw it connect, so they see it go.
      return disconnect(scope, { code: 1006, reason: '' });
    }
    if (protocol !== undefined) protocols.set(req, protocol);
    wss.handleUpgrade(req, socket, head, (ws) => register(ws, socket, scope));
  }

  function register(ws: WebSocket, socket: Duplex, scope: ConnectionScope): void {
    const connection = new GatewayConnection(scope, ws, limits);
    const { connectionId } = scope;
    connections.set(connectionId, connection);
    const unwatch = watchFrameSizes(socket, limits.maxFrameBytes, () =>
      connection.close(CLOSE_CAUSES.messageTooBig),
    );
    log('info', 'connected', { connectionId, principalId: scope.authorizer?.principalId });

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!connection.live) return;
      if (isBinary) return connection.close(CLOSE_CAUSES.binaryFrame);
      connection.touch();
      const body = textOf(data);
      if (!connection.enqueueFrame(() => route(connection, body))) {
        log('warn', 'frame queue full: connection closed', { connectionId });
      }
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // `ws` closes with 1009 itself; this records the cause for $disconnect.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        connection.close(CLOSE_CAUSES.messageTooBig);
      } else {
        log('debug', 'WebSocket protocol error', { connectionId, error });
      }
    });
    const ended = new Promise<void>((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        unwatch();
        const cause = connection.closedWith(code, reason.toString());
        void connection
          .enqueue(() => disconnect(scope, cause))
          .finally(() => {
            connections.delete(connectionId);
            resolve();
          });
      });
    });
    track(lifetimes, ended);
  }

  /** One `$default` invocation; its `body` is the route response, its failure an error frame. */
  async function route(connection: GatewayConnection, body: string): Promise<void> {
    const event = messageEvent(connection.scope, body, Date.now());
    try {
      const result = await handlers.default(
        asLambdaEvent(event),
        lambdaContext('websocket-default'),
      );
      const response = bodyOf(result);
      if (response !== undefined) connection.send(response);
    } catch (error) {
      log('error', '$default handler failed', { connectionId: connection.id, error });
      // API Gateway's own frame for a failed integration, byte for byte.
      connection.send(
        `{"message": "Internal server error", "connectionId":"${connection.id}", ` +
          `"requestId":"${event.requestContext.requestId}"}`,
      );
    }
  }

  async function disconnect(scope: ConnectionScope, cause: CloseCause): Promise<void> {
    const { connectionId } = scope;
    try {
      await handlers.disconnect(
        asLambdaEvent(disconnectEvent(scope, cause, Date.now())),
        lambdaContext('websocket-disconnect'),
      );
    } catch (error) {
      log('error', '$disconnect handler failed', { connectionId, error });
    }
    log('info', 'disconnected', { connectionId, code: cause.code, reason: cause.reason });
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Handshakes under way finish first: one that connects is then closed like the rest.
      await Promise.allSettled([...upgrades]);
      for (const connection of connections.values()) connection.close(CLOSE_CAUSES.shutdown);
      await Promise.allSettled([...lifetimes]);
      wss.close();
      server.closeAllConnections();
      await closed;
      log('info', 'WebSocket gateway stopped', { port });
    })();
    return stopping;
  }

  return {
    url: `ws://${urlHost}:${port}`,
    callbackUrl: `http://${urlHost}:${port}`,
    port,
    apiId,
    stage,
    connectionIds: () =>
      [...connections.values()].filter((c) => c.live).map((connection) => connection.id),
    stop,
  };
}

function track(set: Set<Promise<void>>, work: Promise<void>): void {
  set.add(work);
  void work.finally(() => set.delete(work));
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
