import type { Agent, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConnectionGoneError, RetryableError } from '#core/errors';
import type { Delivery, Disconnector } from '#core/ports';

/** Node's network errors worth another try: the request may never have reached AWS. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const RETRYABLE_NAMES = new Set([
  'LimitExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerErrorException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * Herald's one reading of a failed post to a connection, whichever way it was sent. It reads
 * the error as SDK v3 shapes it: the type in `name`, the HTTP status in
 * `$metadata.httpStatusCode` (`statusCode` is always undefined in v3), Node's network errors
 * in `code`. Gone (410) becomes ConnectionGoneError; throttling, 5xx and network failures
 * become RetryableError; anything else is returned as it is.
 */
export function classifyPostError(connectionId: string, error: unknown): unknown {
  const { name, code, $metadata } = (error ?? {}) as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  if (name === 'GoneException' || status === 410) {
    return new ConnectionGoneError(connectionId, { cause: error });
  }
  if (
    (name !== undefined && RETRYABLE_NAMES.has(name)) ||
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return new RetryableError(`post to ${connectionId} failed: ${name ?? code ?? status}`, {
      cause: error,
    });
  }
  return error;
}

export interface SignedPostOptions {
  /** The stage's callback URL, stage path included: `https://{api}.execute-api.{region}.amazonaws.com/{stage}`. */
  callbackUrl: string;
  /** The region the API is in, which SigV4 signs for. */
  region: string;
  /** Asked again only when the last credentials are about to expire (see `refreshing`). */
  credentials: AwsCredentialIdentityProvider;
  /** Keep-alive agent for the callback URL's protocol, one socket per post in flight. */
  agent: Agent;
  /** How long one post may take, answer included, before it counts as a retryable failure. */
  timeoutMs?: number;
  /** Called for each answer 429 (API Gateway throttling the account), for a metric. */
  onThrottled?: () => void;
}

/** An error answer of the management API, shaped as SDK v3 shapes it, for `classifyPostError`. */
export class ManagementApiError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(type: string, status: number, detail: string) {
    super(`PostToConnection answered ${status} ${type}${detail && `: ${detail}`}`);
    this.name = type;
    this.$metadata = { httpStatusCode: status };
  }
}

/**
 * Herald's one way to post to a connection: every handler that pushes frames uses it (see
 * `createSignedPostDelivery`). Posts frames to `{callbackUrl}/@connections/{id}` with a
 * SigV4-signed `http(s).request`, skipping the SDK client's per-request middleware stack
 * (serialisation, endpoint rules, retry, schema), which cost about three times the CPU per
 * post: the fan-out is CPU-bound (BENCHMARKS.md, Findings; the SDK path lives on as a
 * baseline in bench/sdk-delivery.ts). Outcomes are classified by `classifyPostError`.
 */
export class SignedPostDelivery implements Delivery, Disconnector {
  private readonly signer: SignatureV4;
  private readonly url: URL;
  private readonly basePath: string;
  private readonly send: typeof httpRequest;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly onThrottled: (() => void) | undefined;

  constructor(options: SignedPostOptions) {
    this.onThrottled = options.onThrottled;
    this.url = new URL(options.callbackUrl);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.agent = options.agent;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: options.region,
      credentials: refreshing(options.credentials),
      sha256: Sha256,
    });
  }

  async post(connectionId: string, data: string): Promise<void> {
    await this.call('POST', connectionId, Buffer.from(data));
  }

  /** DeleteConnection: API Gateway closes the socket (and runs `$disconnect`). */
  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.call('DELETE', connectionId, Buffer.alloc(0));
    } catch (error) {
      if (!(error instanceof ConnectionGoneError)) throw error;
    }
  }

  private async call(method: 'POST' | 'DELETE', connectionId: string, body: Buffer) {
    let answer: Answer;
    try {
      const signed = await this.signer.sign({
        method,
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        path: `${this.basePath}/@connections/${encodeSegment(connectionId)}`,
        query: {},
        headers: {
          host: this.url.host,
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
        },
        body,
      });
      answer = await this.exchange(
        {
          method,
          hostname: this.url.hostname,
          port: this.url.port,
          path: signed.path,
          headers: signed.headers,
          agent: this.agent,
        },
        body,
      );
    } catch (error) {
      throw classifyPostError(connectionId, error);
    }
    if (answer.status >= 200 && answer.status < 300) return;
    if (answer.status === 429) this.onThrottled?.();
    throw classifyPostError(connectionId, answerError(answer));
  }

  /** Sends one request and reads its answer to the end, so the socket goes back to the agent. */
  private exchange(options: RequestOptions, body: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = this.send(options);
      const timer = setTimeout(() => {
        const timeout = new Error(`no answer within ${this.timeoutMs} ms`);
        timeout.name = 'TimeoutError';
        fail(timeout);
        req.destroy(timeout);
      }, this.timeoutMs);
      function fail(error: Error): void {
        clearTimeout(timer);
        reject(error);
      }
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, type: errorType(res), body: chunks });
        });
      });
      req.end(body);
    });
  }
}

interface Answer {
  status: number;
  type: string | undefined;
  body: Buffer[];
}

/** Enough of an error answer for its message; a success has no body. */
const MAX_ERROR_BODY_BYTES = 4096;
/** Credentials this close to expiring are resolved again (the SDK's own margin). */
const CREDENTIALS_REFRESH_MS = 5 * 60_000;

/** A path segment encoded as RFC 3986 (and the SDK) has it: `encodeURIComponent` leaves `!'()*`. */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The error type API Gateway puts in `x-amzn-ErrorType`, trimmed as the SDK trims it. */
function errorType(res: IncomingMessage): string | undefined {
  const header = res.headers['x-amzn-errortype'];
  const raw = Array.isArray(header) ? header[0] : header;
  return raw?.split(':')[0]?.split('#').pop() || undefined;
}

/**
 * The answer as an error. Only the first line of the service's message is kept: a
 * signature mismatch goes on to quote the canonical request, session token included.
 */
function answerError({ status, type, body }: Answer): ManagementApiError {
  let detail = '';
  try {
    const parsed = JSON.parse(Buffer.concat(body).toString('utf8')) as Record<string, unknown>;
    const message = parsed.message ?? parsed.Message;
    if (typeof message === 'string') detail = (message.split('\n', 1)[0] ?? '').slice(0, 200);
  } catch {
    // No JSON body (a 410 has none): the status and type say it all.
  }
  return new ManagementApiError(type ?? 'UnknownError', status, detail);
}

/**
 * The provider's credentials, asked for once and again only when they come within
 * CREDENTIALS_REFRESH_MS of their expiry, one request at a time. If that refresh fails
 * while they are still valid, they keep being used until they expire.
 */
function refreshing(provider: AwsCredentialIdentityProvider): () => Promise<AwsCredentialIdentity> {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const expiresAt = current?.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    if (current && expiresAt - Date.now() > CREDENTIALS_REFRESH_MS) return current;
    pending ??= provider().finally(() => {
      pending = undefined;
    });
    try {
      current = await pending;
      return current;
    } catch (error) {
      if (current && expiresAt > Date.now()) return current;
      throw error;
    }
  };
}
