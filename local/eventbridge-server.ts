/**
 * Local EventBridge: enough of its JSON 1.1 API (`AWSEvents.PutEvents`) for the real
 * `@aws-sdk/client-eventbridge` pointed at it by `AWS_ENDPOINT_URL_EVENTBRIDGE`. Each entry
 * becomes an event as EventBridge builds it; the ingress rules (`#config/eventbridge-ingress`,
 * the same the CDK stack deploys) match it on the ingress bus, and each match passes its
 * `detail` on (to the notifications topic), as the rule's target does in AWS. Entries are
 * answered one by one, in order: an event id, or an error code and message.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { IngressRule } from '#config/eventbridge-ingress';
import { matchesPattern } from './event-filter';
import { closerOf, listen } from './server-lifecycle';
import { urlHost } from './url-host';

export interface EventBridgeServerOptions {
  port: number;
  host?: string;
  /** The bus the rules are on: `default` (the account's default bus) or a custom bus name. */
  busName: string;
  rules: readonly IngressRule[];
  /** Passes a matching event's `detail`, as JSON text, to the rule's target. */
  forward(detail: string, rule: IngressRule): Promise<void>;
  account?: string;
  region: string;
  log?: (message: string) => void;
}

export interface EventBridgeServer {
  url: string;
  stop(): Promise<void>;
}

/** EventBridge's limits: entries per request, bytes per request (all entries together). */
export const PUT_EVENTS_LIMITS = { entries: 10, bytes: 256 * 1024 } as const;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

class RequestError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export async function startEventBridgeServer(
  options: EventBridgeServerOptions,
): Promise<EventBridgeServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const account = options.account ?? '000000000000';

  async function putEvents(input: unknown): Promise<{
    FailedEntryCount: number;
    Entries: EntryResult[];
  }> {
    const entries = (input as { Entries?: unknown } | null)?.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new RequestError('ValidationException', 'Entries must hold 1 to 10 entries');
    }
    if (entries.length > PUT_EVENTS_LIMITS.entries) {
      throw new RequestError(
        'ValidationException',
        `Entries must hold at most ${PUT_EVENTS_LIMITS.entries} entries, got ${entries.length}`,
      );
    }
    if (entriesSize(entries) > PUT_EVENTS_LIMITS.bytes) {
      throw new RequestError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results: EntryResult[] = [];
    for (const entry of entries) results.push(await putEntry(entry));
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }

  async function putEntry(entry: unknown): Promise<EntryResult> {
    const { Source, DetailType, Detail, EventBusName, Resources } = (entry ?? {}) as Record<
      string,
      unknown
    >;
    if (
      typeof Source !== 'string' ||
      typeof DetailType !== 'string' ||
      typeof Detail !== 'string'
    ) {
      return failed('InvalidArgument', 'Parameters Source, DetailType and Detail must be given');
    }
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      return failed('MalformedDetail', 'Detail is malformed.');
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
      return failed('MalformedDetail', 'Detail is malformed.');
    }
    const id = randomUUID();
    if (!onIngressBus(EventBusName)) return { EventId: id };
    const event = {
      version: '0',
      id,
      'detail-type': DetailType,
      source: Source,
      account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: options.region,
      resources: Array.isArray(Resources) ? Resources : [],
      detail,
    };
    const matched = options.rules.filter((rule) => matchesPattern(rule.pattern, event));
    if (matched.length === 0) log(`eventbridge: event ${id} from ${Source} matched no rule`);
    try {
      for (const rule of matched) await options.forward(JSON.stringify(detail), rule);
    } catch (error) {
      // In AWS the target is retried later; here the caller learns it and may put it again.
      log(`eventbridge: passing event ${id} on failed: ${String(error)}`);
      return failed('InternalFailure', 'The event could not be passed to its target');
    }
    return { EventId: id };
  }

  function onIngressBus(name: unknown): boolean {
    const bus = typeof name === 'string' && name !== '' ? name : 'default';
    // A bus may be named by its ARN: `arn:aws:events:<region>:<account>:event-bus/<name>`.
    return bus.replace(/^arn:[^:]+:events:[^:]*:[^:]*:event-bus\//, '') === options.busName;
  }

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (error instanceof RequestError) return sendError(response, error);
      log(`eventbridge: ${String(error)}`);
      sendError(response, new RequestError('InternalException', 'internal error'), 500);
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || target === undefined) {
      throw new RequestError('UnknownOperationException', 'only POST with X-Amz-Target is served');
    }
    if (target !== 'AWSEvents.PutEvents') {
      throw new RequestError('UnknownOperationException', `${String(target)} is not served`);
    }
    const body = await readBody(request);
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      throw new RequestError('SerializationException', 'the request body is not JSON');
    }
    sendJson(response, 200, await putEvents(input));
  }

  const port = await listen(server, options.port, host);
  return { url: `http://${urlHost(host)}:${port}`, stop: closerOf(server) };
}

/** An entry's size as EventBridge counts it, near enough: its strings' bytes. */
function entriesSize(entries: readonly unknown[]): number {
  let size = 0;
  for (const entry of entries) {
    for (const value of Object.values((entry ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') size += Buffer.byteLength(value);
    }
  }
  return size;
}

function failed(ErrorCode: string, ErrorMessage: string): EntryResult {
  return { ErrorCode, ErrorMessage };
}

/** The body as text, refused past EventBridge's request size (with room for the JSON around it). */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 2 * PUT_EVENTS_LIMITS.bytes) {
      throw new RequestError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, error: RequestError, status = 400): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, status, { __type: error.type, message: error.message });
}
