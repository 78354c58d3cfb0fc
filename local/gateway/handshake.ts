/**
 * The `$connect` handshake as API Gateway runs it: the checks made before any handler, the
 * REQUEST authorizer on the upgrade request (the token rides in the query string) with its
 * 401, 403 and 500 refusals, then `$connect` with the authorizer's context, whose status and
 * subprotocol decide the upgrade. A refusal is answered as plain HTTP, never with 101.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { lambdaContext } from '#local/lambda-context';
import { judgeAuthorizerResult } from './authorizer-policy';
import {
  authorizerEvent,
  awsId,
  type ConnectionScope,
  connectEvent,
  type Handshake,
  methodArn,
  readHandshake,
} from './events';
import {
  asLambdaEvent,
  asRestAuthorizerEvent,
  headerOf,
  statusOf,
  type WebSocketHandlers,
} from './lambda-integration';
import type { GatewayLog } from './management-api';

export interface HandshakeOptions {
  apiId: string;
  stage: string;
  /** The gateway's port, reported in `X-Forwarded-Port`. */
  port: number;
  handlers: Pick<WebSocketHandlers, 'authorizer' | 'connect'>;
  log: GatewayLog;
}

/** Accepted: the connection's scope and the subprotocol `$connect` chose, if any. */
export type HandshakeOutcome =
  | { accepted: true; scope: ConnectionScope; protocol: string | undefined }
  | { accepted: false; status: number; message: string };

/** Runs the handshake of one upgrade request up to, not including, the switch to WebSocket. */
export async function runHandshake(
  req: IncomingMessage,
  options: HandshakeOptions,
): Promise<HandshakeOutcome> {
  const { apiId, stage, port, handlers, log } = options;
  if (!isClientPath(req.url ?? '/', stage)) return refused(403, 'Forbidden');
  const invalid = handshakeProblem(req);
  if (invalid) return refused(400, invalid);

  const handshake = readHandshake(req, port);
  const scope: ConnectionScope = {
    apiId,
    stage,
    connectionId: awsId(),
    connectedAt: Date.now(),
    domainName: handshake.domainName,
    identity: handshake.identity,
  };
  const { connectionId } = scope;

  const authorized = await authorize(scope, handshake, options);
  if (authorized !== true) {
    log('info', 'connection refused by the authorizer', { connectionId, status: authorized });
    return refused(authorized, REFUSALS[authorized]);
  }

  let result: unknown;
  try {
    result = await handlers.connect(
      asLambdaEvent(connectEvent(scope, handshake, Date.now())),
      lambdaContext('websocket-connect'),
    );
  } catch (error) {
    log('error', '$connect handler failed', { connectionId, error });
    // A failed Lambda integration answers 502, as AWS does.
    return refused(502, 'Internal server error');
  }
  const status = statusOf(result);
  if (status < 200 || status > 299) {
    log('info', 'connection refused by $connect', { connectionId, status });
    return refused(status, STATUS_CODES[status] ?? 'Refused');
  }
  return { accepted: true, scope, protocol: headerOf(result, 'sec-websocket-protocol') };
}

/** True on Allow (and `scope.authorizer` set), else the status the handshake gets. */
async function authorize(
  scope: ConnectionScope,
  handshake: Handshake,
  { apiId, stage, handlers, log }: HandshakeOptions,
): Promise<true | keyof typeof REFUSALS> {
  const { connectionId } = scope;
  const started = Date.now();
  try {
    const result = await handlers.authorizer(
      asRestAuthorizerEvent(authorizerEvent(scope, handshake, started)),
      lambdaContext('websocket-authorizer'),
    );
    const verdict = judgeAuthorizerResult(result, methodArn(apiId, stage), Date.now() - started);
    if (verdict.kind === 'deny') return 403;
    if (verdict.kind === 'invalid') {
      log('error', 'authorizer returned an invalid result', {
        connectionId,
        reason: verdict.reason,
      });
      return 500;
    }
    scope.authorizer = verdict.authorizer;
    return true;
  } catch (error) {
    // The Lambda authorizer convention: throwing exactly "Unauthorized" means 401.
    const message = error instanceof Error ? error.message : error;
    if (message === 'Unauthorized') return 401;
    log('error', 'authorizer failed', { connectionId, error });
    return 500;
  }
}

/** The bodies AWS answers a refused handshake with. */
const REFUSALS = {
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal server error',
} as const;

function refused(status: number, message: string): HandshakeOutcome {
  return { accepted: false, status, message };
}

/** How long a refused handshake's socket may linger before it is cut. */
const REFUSAL_LINGER_MS = 1_000;

/** Answers the upgrade request with a plain HTTP error instead of 101. */
export function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const payload = JSON.stringify({ message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${payload}`);
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}

/** Clients connect at `/` (locally) or `/{stage}` (as on AWS); the query string is free. */
function isClientPath(url: string, stage: string): boolean {
  const pathname = url.split('?', 1)[0] ?? '/';
  return ['/', `/${stage}`, `/${stage}/`].includes(pathname);
}

/** The checks `ws` makes, made before any handler runs so a bad handshake costs no $connect. */
function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'Invalid HTTP method';
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (!/^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '')) {
    return 'Missing or invalid Sec-WebSocket-Key header';
  }
  if (!['8', '13'].includes(req.headers['sec-websocket-version'] ?? '')) {
    return 'Missing or invalid Sec-WebSocket-Version header';
  }
  return undefined;
}
