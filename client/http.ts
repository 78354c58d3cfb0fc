/**
 * Calls to Herald's HTTP API: JSON in and out, the bearer token from the client's token
 * (or token callback), and the API's `{"error":{"code","message"}}` answers as typed errors.
 */
import { isErrorBody, isRecord } from './frames';
import { tokenExpiry } from './token-refresh';

/** What `fetch` the client uses: the global one unless a test or a server passes another. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A failed HTTP API call. `code` is the server's error code (`bad_request`, `not_found`, …)
 * or one of the client's own: `no_http_url` (no `httpUrl` option), `network` (no answer),
 * `bad_response` (an answer that is not the API's JSON).
 */
export class HeraldHttpError extends Error {
  override name = 'HeraldHttpError';
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HttpOptions {
  /** The HTTP API's base URL, e.g. `https://<id>.execute-api.<region>.amazonaws.com`. */
  httpUrl?: string;
  /** A token, or a function asked for a fresh one when the last is near its `exp`. */
  token: string | (() => string | Promise<string>);
  fetch?: FetchLike;
  /** The wall clock (ms), against which a token's `exp` is read. */
  now?: () => number;
}

/** A cached token is asked for again this long before its `exp`. */
const TOKEN_MARGIN_S = 30;

/**
 * Hands out the bearer token: a fixed one as is; from a callback, the last token while it
 * has more than half a minute left (or no `exp`), so a list of pages is not one token
 * request per page.
 */
export class TokenSource {
  private cached: string | undefined;

  constructor(
    private readonly token: HttpOptions['token'],
    private readonly now: () => number = Date.now,
  ) {}

  /** A token the socket was just opened with: fresh, so HTTP calls may use it too. */
  offer(token: string): void {
    this.cached = token;
  }

  /** Forgets the cached token (the API refused it). */
  drop(): void {
    this.cached = undefined;
  }

  async get(): Promise<string> {
    if (typeof this.token === 'string') return this.token;
    const cached = this.cached;
    if (cached !== undefined) {
      const exp = tokenExpiry(cached);
      if (exp === undefined || exp - this.now() / 1000 > TOKEN_MARGIN_S) return cached;
    }
    const fresh = await this.token();
    this.cached = fresh;
    return fresh;
  }

  /** Whether asking again may give another token (a refused fixed token stays refused). */
  get renewable(): boolean {
    return typeof this.token !== 'string';
  }
}

export class HttpApi {
  private readonly baseUrl: string | undefined;
  private readonly fetchImpl: FetchLike | undefined;

  constructor(
    options: Pick<HttpOptions, 'httpUrl' | 'fetch'>,
    readonly tokens: TokenSource,
  ) {
    this.baseUrl = options.httpUrl?.replace(/\/+$/, '');
    this.fetchImpl =
      options.fetch ??
      (typeof fetch === 'function' ? (input, init) => fetch(input, init) : undefined);
  }

  /**
   * Sends one request and returns the answer's JSON object. A 401 with a token callback asks
   * the callback once more and retries: the cached token may have been revoked early.
   */
  async call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const first = await this.send(method, path, body);
    if (first.status !== 401 || !this.tokens.renewable) return read(first);
    this.tokens.drop();
    return read(await this.send(method, path, body));
  }

  private async send(method: string, path: string, body: unknown): Promise<Response> {
    if (this.baseUrl === undefined) {
      throw new HeraldHttpError('no_http_url', 'pass the httpUrl option to use the HTTP API');
    }
    if (this.fetchImpl === undefined) {
      throw new HeraldHttpError('no_fetch', 'no global fetch here: pass options.fetch');
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.tokens.get()}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (error) {
      throw new HeraldHttpError(
        'network',
        `${method} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

async function read(response: Response): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = isRecord(body) ? body.error : undefined;
    if (isErrorBody(error)) throw new HeraldHttpError(error.code, error.message, response.status);
    throw new HeraldHttpError('bad_response', `HTTP ${response.status}`, response.status);
  }
  if (!isRecord(body)) {
    throw new HeraldHttpError('bad_response', `HTTP ${response.status} without a JSON object`);
  }
  return body;
}
