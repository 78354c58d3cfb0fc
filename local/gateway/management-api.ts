/**
 * The `@connections` management API (PostToConnection, GetConnection, DeleteConnection) on the
 * gateway's HTTP port, answering on the wire as AWS does so the unmodified
 * `@aws-sdk/client-apigatewaymanagementapi` client works against it: errors carry their type in
 * `x-amzn-ErrorType`, which the SDK turns into `GoneException` and friends. Requests are not
 * signature-checked: there is no account here to check them against; instead only a
 * loopback `Host` and no cross-site `Origin` are answered (anything else gets 403).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionFaults } from '#local/faults/connection-faults';
import { localOnlyRefusal } from '#local/loopback-guard';
import { CLOSE_CAUSES, type GatewayConnection } from './connection';

export type GatewayLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: object,
) => void;

export interface ManagementApiOptions {
  stage: string;
  maxMessageBytes: number;
  /** The live connection with this id, if any. */
  lookup: (connectionId: string) => GatewayConnection | undefined;
  log: GatewayLog;
  /** Faults injected on demand (`FaultPlan.connections`); none when absent. */
  faults?: ConnectionFaults;
}

export function managementApi(
  options: ManagementApiOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const refusal = localOnlyRefusal(req.headers);
    if (refusal !== undefined) {
      req.resume();
      return reply(res, 403, { message: refusal }, 'ForbiddenException');
    }
    const connectionId = connectionIdFromPath(req.url ?? '/', options.stage);
    if (connectionId === undefined || !['POST', 'GET', 'DELETE'].includes(req.method ?? '')) {
      req.resume();
      return reply(res, 404, { message: 'Not Found' });
    }
    const fault = options.faults?.();
    if (fault?.kind === 'refuse') {
      req.resume();
      options.log('debug', 'injected @connections fault', { connectionId, status: fault.status });
      return reply(res, fault.status, { message: fault.message }, fault.errorType);
    }
    if (fault?.kind === 'slow') await delay(fault.ms);

    if (req.method === 'POST') {
      const body = await readBody(req, options.maxMessageBytes);
      if (body === undefined) {
        return reply(
          res,
          413,
          { message: `Message is over ${options.maxMessageBytes} bytes` },
          'PayloadTooLargeException',
        );
      }
      const connection = options.lookup(connectionId);
      if (!connection?.send(body)) return gone(res);
      options.log('debug', 'posted to connection', { connectionId, bytes: body.length });
      return reply(res, 200);
    }

    req.resume();
    const connection = options.lookup(connectionId);
    if (!connection?.live) return gone(res);
    if (req.method === 'GET') {
      const { identity, connectedAt } = connection.scope;
      return reply(res, 200, {
        connectedAt: new Date(connectedAt).toISOString(),
        identity: { sourceIp: identity.sourceIp, userAgent: identity.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    }
    connection.close(CLOSE_CAUSES.deleted);
    options.log('info', 'connection deleted through @connections', { connectionId });
    return reply(res, 204);
  };
}

/**
 * The connection id of `/@connections/{id}` or `/{stage}/@connections/{id}`, URL-decoded
 * (SDKs send `=` as `%3D`, some send `@` as `%40`); undefined for any other path.
 */
export function connectionIdFromPath(url: string, stage: string): string | undefined {
  const pathname = url.split('?', 1)[0] ?? '';
  const segments: string[] = [];
  for (const raw of pathname.split('/').slice(1)) {
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return undefined;
    }
  }
  if (segments.length === 3 && segments[0] === stage) segments.shift();
  const [resource, connectionId] = segments;
  if (segments.length !== 2 || resource !== '@connections' || !connectionId) return undefined;
  return connectionId;
}

/** The body, or undefined once it passes `limit` bytes (the rest is drained, not kept). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/** AWS answers a gone connection with the error type in a header and no body at all. */
function gone(res: ServerResponse): void {
  reply(res, 410, undefined, 'GoneException');
}

function reply(res: ServerResponse, status: number, body?: object, errorType?: string): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
    ...(errorType && { 'x-amzn-ErrorType': errorType }),
  });
  res.end(payload);
}
