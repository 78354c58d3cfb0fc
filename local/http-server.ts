/**
 * The local HTTP server on port 3000: the demo page and the development endpoints it
 * uses (a dev token, the stack's URLs, publishing through the local SNS topic), and the
 * HTTP API, served by its real handler as API Gateway would invoke it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { buildDemo, DEMO_CONTENT_TYPES, DEMO_PATHS, type DemoBundle } from '#client/build';
import { TOPOLOGY } from '#config/topology';
import { parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import type { HttpApiEvent, HttpApiResult } from '#handlers/http-api';
import { signDevToken } from './dev-token';
import { apiIdLike } from './gateway/events';
import { integrationEvent, matchRoute, readHttpRequest } from './http-api-events';
import { lambdaContext } from './lambda-context';
import { localOnlyRefusal } from './loopback-guard';

export interface DevConfig {
  websocketUrl: string;
  sesViewerUrl: string;
  topicArn: string;
}

/** The HTTP API's Lambda handler, as the local stack loaded it. */
export type LocalHttpApi = (event: HttpApiEvent, context: Context) => Promise<HttpApiResult>;

export interface HttpServerOptions {
  port: number;
  host: string;
  jwtSecret: string;
  config: DevConfig;
  sns: SNSClient;
  /** Serves the HTTP API's routes (`/notifications…`, `/preferences`, `/state` …) when given. */
  httpApi?: LocalHttpApi;
}

export interface HttpServer {
  url: string;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  let demo: Promise<DemoBundle> | undefined;
  /** The page's "document changed" example: an app's document, as a version and a time. */
  const document = { id: 'demo', version: 1, updatedAt: new Date().toISOString() };
  const apiId = apiIdLike();
  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        const status = error instanceof HttpError ? error.status : 500;
        const message = error instanceof HttpError ? error.message : 'internal error';
        sendJson(response, status, { error: { code: codeFor(status), message } });
      } else {
        response.destroy();
      }
    });
  });

  /**
   * As API Gateway does for routes without an authorizer: the matched route's event goes
   * straight to the handler, which verifies the bearer token and answers every refusal.
   */
  async function serveApi(
    api: LocalHttpApi,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const body = await readBody(request);
    const parsed = readHttpRequest(request, body, Date.now());
    const route = matchRoute(TOPOLOGY.httpRoutes, parsed.method, parsed.rawPath);
    if (route === undefined) {
      throw new HttpError(404, `no route for ${parsed.method} ${parsed.rawPath}`);
    }
    const result = await api(
      integrationEvent(parsed, route, apiId),
      lambdaContext('herald-http-api'),
    );
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    response.writeHead(result.statusCode ?? 200, headers);
    const payload = result.body ?? '';
    response.end(result.isBase64Encoded ? Buffer.from(payload, 'base64') : payload);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const key = `${request.method} ${url.pathname}`;
    if (url.pathname === '/dev' || url.pathname.startsWith('/dev/')) {
      const refusal = localOnlyRefusal(request.headers);
      if (refusal !== undefined) throw new HttpError(403, refusal);
    }
    if (options.httpApi && isApiPath(url.pathname)) {
      await serveApi(options.httpApi, request, response);
      return;
    }
    switch (key) {
      case `GET ${DEMO_PATHS.html}`:
      case `GET ${DEMO_PATHS.js}`:
      case `GET ${DEMO_PATHS.css}`: {
        demo ??= buildDemo();
        const bundle = await demo;
        const kind =
          url.pathname === DEMO_PATHS.js ? 'js' : url.pathname === DEMO_PATHS.css ? 'css' : 'html';
        response.writeHead(200, {
          'content-type': DEMO_CONTENT_TYPES[kind],
          'cache-control': 'no-store',
        });
        response.end(bundle[kind] ?? '');
        return;
      }
      case 'GET /dev/config':
        sendJson(response, 200, options.config);
        return;
      case 'GET /dev/token': {
        const userId = url.searchParams.get('user')?.trim() || 'alice';
        const tenant = url.searchParams.get('tenant')?.trim() || undefined;
        const topics =
          url.searchParams
            .get('topics')
            ?.split(/[\s,]+/)
            .filter(Boolean) ?? [];
        const token = await signDevToken({
          userId,
          tenant,
          topics,
          email: `${userId}@example.com`,
          secret: options.jwtSecret,
        }).catch((error: unknown) => {
          throw new HttpError(400, error instanceof Error ? error.message : 'cannot sign');
        });
        sendJson(response, 200, { token });
        return;
      }
      case 'GET /dev/document':
        sendJson(response, 200, document);
        return;
      case 'POST /dev/document':
        document.version += 1;
        document.updatedAt = new Date().toISOString();
        sendJson(response, 200, document);
        return;
      case 'POST /dev/publish': {
        const input = await readJson(request);
        const envelope = toEnvelope(input);
        const published = await options.sns.send(
          new PublishCommand({
            TopicArn: options.config.topicArn,
            Message: JSON.stringify(envelope),
          }),
        );
        sendJson(response, 202, { id: envelope.id, messageId: published.MessageId });
        return;
      }
      default:
        throw new HttpError(404, `no route for ${key}`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${options.host}:${port}`,
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

/** The demo's publish form: fills in what a test message may leave out, then the real rules apply. */
function toEnvelope(input: unknown) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HttpError(400, 'body must be a JSON object');
  }
  try {
    return parseEnvelope({ id: randomUUID(), type: 'demo.message', ...input });
  } catch (error) {
    if (error instanceof InvalidEnvelopeError) throw new HttpError(400, error.message);
    throw error;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function codeFor(status: number): string {
  const codes: Record<number, string> = {
    400: 'bad_request',
    403: 'forbidden',
    404: 'not_found',
  };
  return codes[status] ?? 'internal';
}

/** The first path segment of every HTTP API route (`/notifications`, `/state` …). */
const API_ROOTS: ReadonlySet<string> = new Set(
  TOPOLOGY.httpRoutes.map((routeKey) => routeKey.split(' ')[1]?.split('/')[1] ?? ''),
);

function isApiPath(pathname: string): boolean {
  return API_ROOTS.has(pathname.split('/')[1] ?? '');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}
