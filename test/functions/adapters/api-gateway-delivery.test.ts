import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  Agent as HttpAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  classifyPostError,
  ManagementApiError,
  SignedPostDelivery,
  type SignedPostOptions,
} from '#adapters/api-gateway-delivery';
import { ConnectionGoneError, RetryableError } from '#core/errors';

/** An SDK v3 service error as the deserializer builds it: `name` and `$metadata`. */
function sdkError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
  });
}

describe('classifyPostError', () => {
  it('makes a GoneException a ConnectionGoneError for that connection, by name or by 410', () => {
    const gone = new GoneException({
      message: 'Gone',
      $metadata: { httpStatusCode: 410, requestId: 'req-1' },
    });
    const thrown = classifyPostError('conn-1', gone);
    expect(thrown).toBeInstanceOf(ConnectionGoneError);
    expect((thrown as ConnectionGoneError).connectionId).toBe('conn-1');
    expect((thrown as ConnectionGoneError).cause).toBe(gone);
    expect(
      classifyPostError('c', new GoneException({ message: 'Gone', $metadata: {} })),
    ).toBeInstanceOf(ConnectionGoneError);
    const bare = Object.assign(new Error('UnknownError'), { $metadata: { httpStatusCode: 410 } });
    expect(classifyPostError('c', bare)).toBeInstanceOf(ConnectionGoneError);
  });

  it('does NOT treat `statusCode: 410` without $metadata as gone (the AWS samples trap)', () => {
    const v2Shaped = Object.assign(new Error('Gone'), { statusCode: 410 });
    expect(classifyPostError('c', v2Shaped)).toBe(v2Shaped);
    expect(classifyPostError('c', v2Shaped)).not.toBeInstanceOf(ConnectionGoneError);
    expect(classifyPostError('c', { statusCode: 410 })).not.toBeInstanceOf(ConnectionGoneError);
  });

  it.each([
    [
      'LimitExceededException',
      () => new LimitExceededException({ message: 'Limit', $metadata: { httpStatusCode: 429 } }),
    ],
    ['a bare 429', () => sdkError('TooManyRequests', 429)],
    ['a 500', () => sdkError('InternalServerError', 500)],
    ['a 503', () => sdkError('ServiceUnavailable', 503)],
    [
      'a 502 without a name',
      () => Object.assign(new Error(), { name: undefined, $metadata: { httpStatusCode: 502 } }),
    ],
    ['ECONNRESET', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['ETIMEDOUT', () => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })],
    ['a ThrottlingException', () => sdkError('ThrottlingException', 400)],
  ])('makes %s a RetryableError naming the connection, keeping the cause', (_what, make) => {
    const error = make();
    const thrown = classifyPostError('conn-1', error);
    expect(thrown).toBeInstanceOf(RetryableError);
    expect((thrown as RetryableError).cause).toBe(error);
    expect((thrown as RetryableError).message).toContain('conn-1');
  });

  it('returns other client errors (403, 413) as they are', () => {
    const forbidden = new ForbiddenException({
      message: 'Forbidden',
      $metadata: { httpStatusCode: 403 },
    });
    const tooLarge = new PayloadTooLargeException({
      message: 'Too large',
      $metadata: { httpStatusCode: 413 },
    });
    expect(classifyPostError('c', forbidden)).toBe(forbidden);
    expect(classifyPostError('c', tooLarge)).toBe(tooLarge);
  });

  it('passes odd throwables through unchanged', () => {
    expect(classifyPostError('c', undefined)).toBeUndefined();
    expect(classifyPostError('c', 'text')).toBe('text');
  });
});

/** What the stand-in `@connections` endpoint received. */
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const CREDENTIALS = {
  accessKeyId: 'AKIDLEAN',
  secretAccessKey: 'lean-secret',
  sessionToken: 'tok',
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A `@connections` stand-in on port 0: records each request, then answers with `respond`
 * (by default 200, empty). Counts TCP connections, to show that posts share sockets.
 */
async function startEndpoint(tls?: { key: string; cert: string }): Promise<{
  url: string;
  received: Received[];
  sockets: () => number;
  respond: (handler: Handler) => void;
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  let sockets = 0;
  let handler: Handler = (_req, res) => {
    res.writeHead(200).end();
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handler(req, res);
    });
  };
  const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  server.on(tls ? 'secureConnection' : 'connection', () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    received,
    sockets: () => sockets,
    respond: (next) => {
      handler = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function signedDelivery(
  callbackUrl: string,
  overrides: Partial<SignedPostOptions> = {},
): SignedPostDelivery {
  return new SignedPostDelivery({
    callbackUrl,
    region: 'eu-west-1',
    credentials: async () => CREDENTIALS,
    agent: new HttpAgent({ keepAlive: true, maxSockets: 4 }),
    ...overrides,
  });
}

/** The error `post` rejects with (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected post to fail');
}

/** Checks the request's SigV4 signature by signing what arrived again, as API Gateway does. */
async function expectValidSignature(request: Received, region = 'eu-west-1'): Promise<void> {
  const authorization = request.headers.authorization ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=(\w+)\/(\d{8})\/([\w-]+)\/execute-api\/aws4_request, SignedHeaders=([\w;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  expect(match, authorization).not.toBeNull();
  const [, accessKeyId, , signedRegion, signedHeaders = '', signature] = match ?? [];
  expect(accessKeyId).toBe(CREDENTIALS.accessKeyId);
  expect(signedRegion).toBe(region);
  expect(signedHeaders.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date']));

  const headers = Object.fromEntries(
    signedHeaders.split(';').map((name) => [name, String(request.headers[name])]),
  );
  const amzDate = headers['x-amz-date'] ?? '';
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const [path = '', query] = request.path.split('?');
  const again = await new SignatureV4({
    service: 'execute-api',
    region,
    credentials: CREDENTIALS,
    sha256: Sha256,
  }).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: query ? Object.fromEntries(new URLSearchParams(query)) : {},
      headers,
      body: request.body,
    },
    { signingDate },
  );
  expect(again.headers.authorization).toContain(`Signature=${signature}`);
}

describe('SignedPostDelivery.post', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  beforeAll(async () => {
    endpoint = await startEndpoint();
  });
  afterAll(() => endpoint.close());
  beforeEach(() => {
    endpoint.received.length = 0;
    endpoint.respond((_req, res) => res.writeHead(200).end());
  });

  it('POSTs the frame to {callbackUrl}/@connections/{id}, stage path kept, id URL-encoded', async () => {
    await signedDelivery(`${endpoint.url}/prod/`).post('Ab3=/x!', '{"type":"notification"}');
    const [request] = endpoint.received;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/prod/@connections/Ab3%3D%2Fx%21');
    expect(request?.body).toBe('{"type":"notification"}');
    expect(request?.headers['content-length']).toBe('23');
    expect(request?.headers.host).toBe(new URL(endpoint.url).host);
  });

  it('signs with SigV4 for execute-api in the region, session token included', async () => {
    await signedDelivery(`${endpoint.url}/prod`).post('conn-1', '{"type":"notification"}');
    const [request] = endpoint.received;
    expect(request?.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    await expectValidSignature(request as Received);
  });

  it('posts to /@connections/{id} when the callback URL has no stage path (the local gateway)', async () => {
    await signedDelivery(endpoint.url).post('conn-1', 'x');
    expect(endpoint.received[0]?.path).toBe('/@connections/conn-1');
    await expectValidSignature(endpoint.received[0] as Received);
  });

  it('keeps posts on the keep-alive agent: sequential posts share one socket', async () => {
    const before = endpoint.sockets();
    const delivery = signedDelivery(endpoint.url);
    for (const id of ['a', 'b', 'c']) await delivery.post(id, 'x');
    expect(endpoint.received).toHaveLength(3);
    expect(endpoint.sockets() - before).toBe(1);
  });

  it('makes a 410 (GoneException) a ConnectionGoneError for that connection', async () => {
    endpoint.respond((_req, res) =>
      res.writeHead(410, { 'x-amzn-ErrorType': 'GoneException' }).end(),
    );
    const thrown = await rejectionOf(signedDelivery(endpoint.url).post('conn-1', 'x'));
    expect(thrown).toBeInstanceOf(ConnectionGoneError);
    expect((thrown as ConnectionGoneError).connectionId).toBe('conn-1');
  });

  it('makes a bare 410 without an error type gone too', async () => {
    endpoint.respond((_req, res) => res.writeHead(410).end());
    expect(await rejectionOf(signedDelivery(endpoint.url).post('c', 'x'))).toBeInstanceOf(
      ConnectionGoneError,
    );
  });

  it.each([
    [429, 'LimitExceededException'],
    [429, undefined],
    [500, 'InternalServerErrorException'],
    [503, undefined],
    [400, 'ThrottlingException'],
  ])('makes a %i %s a RetryableError naming the connection', async (status, type) => {
    endpoint.respond((_req, res) =>
      res
        .writeHead(status, {
          'content-type': 'application/json',
          ...(type && { 'x-amzn-ErrorType': type }),
        })
        .end(JSON.stringify({ message: 'slow down' })),
    );
    const thrown = await rejectionOf(signedDelivery(endpoint.url).post('conn-1', 'x'));
    expect(thrown).toBeInstanceOf(RetryableError);
    expect(thrown.message).toContain('conn-1');
    expect((thrown.cause as ManagementApiError).$metadata.httpStatusCode).toBe(status);
  });

  it('tells onThrottled of each 429, and of nothing else', async () => {
    let throttled = 0;
    const delivery = signedDelivery(endpoint.url, { onThrottled: () => throttled++ });
    endpoint.respond((_req, res) => res.writeHead(429).end());
    await rejectionOf(delivery.post('c', 'x'));
    await rejectionOf(delivery.post('c', 'x'));
    endpoint.respond((_req, res) => res.writeHead(503).end());
    await rejectionOf(delivery.post('c', 'x'));
    endpoint.respond((_req, res) => res.writeHead(200).end());
    await delivery.post('c', 'x');
    expect(throttled).toBe(2);
  });

  it('rejects a 403 with a plain error carrying type and status, no token and no frame', async () => {
    endpoint.respond((_req, res) =>
      res
        .writeHead(403, { 'x-amzn-ErrorType': 'ForbiddenException:http://internal.amazon.com/' })
        .end(
          JSON.stringify({
            message:
              'The request signature we calculated does not match.\n\nThe Canonical String was\nx-amz-security-token:tok',
          }),
        ),
    );
    const thrown = await rejectionOf(signedDelivery(endpoint.url).post('conn-1', 'secret frame'));
    expect(thrown).toBeInstanceOf(ManagementApiError);
    expect(thrown).not.toBeInstanceOf(RetryableError);
    expect(thrown.name).toBe('ForbiddenException');
    expect((thrown as ManagementApiError).$metadata.httpStatusCode).toBe(403);
    expect(thrown.message).toBe(
      'PostToConnection answered 403 ForbiddenException: The request signature we calculated does not match.',
    );
    expect(thrown.message).not.toContain('tok');
    expect(thrown.message).not.toContain('secret frame');
  });

  it('rejects a 413 PayloadTooLargeException as it is, not retryable', async () => {
    endpoint.respond((_req, res) =>
      res.writeHead(413, { 'x-amzn-ErrorType': 'PayloadTooLargeException' }).end('{}'),
    );
    const thrown = await rejectionOf(signedDelivery(endpoint.url).post('c', 'x'));
    expect(thrown.name).toBe('PayloadTooLargeException');
    expect(thrown).not.toBeInstanceOf(RetryableError);
  });

  it('makes a socket the endpoint destroys a RetryableError (ECONNRESET)', async () => {
    endpoint.respond((req) => req.socket.destroy());
    const thrown = await rejectionOf(signedDelivery(endpoint.url).post('conn-1', 'x'));
    expect(thrown).toBeInstanceOf(RetryableError);
    expect((thrown.cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('makes a connection refused a RetryableError', async () => {
    const gone = await startEndpoint();
    await gone.close();
    const thrown = await rejectionOf(signedDelivery(gone.url).post('conn-1', 'x'));
    expect(thrown).toBeInstanceOf(RetryableError);
  });

  it('gives up on an endpoint that does not answer within the timeout, retryably', async () => {
    endpoint.respond(() => {});
    const started = Date.now();
    const thrown = await rejectionOf(
      signedDelivery(endpoint.url, { timeoutMs: 100 }).post('conn-1', 'x'),
    );
    expect(thrown).toBeInstanceOf(RetryableError);
    expect((thrown.cause as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects, unclassified, when no credentials can be found', async () => {
    const missing = new Error('Could not load credentials from any providers');
    const thrown = await rejectionOf(
      signedDelivery(endpoint.url, { credentials: () => Promise.reject(missing) }).post('c', 'x'),
    );
    expect(thrown).toBe(missing);
    expect(endpoint.received).toHaveLength(0);
  });

  describe('credentials', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A provider handing out AKID1, AKID2, ... each valid for `lifetimeMs` (forever if undefined). */
    function counting(lifetimeMs?: number) {
      let calls = 0;
      const provider = async () => {
        calls++;
        return {
          accessKeyId: `AKID${calls}`,
          secretAccessKey: 's',
          ...(lifetimeMs !== undefined && { expiration: new Date(Date.now() + lifetimeMs) }),
        };
      };
      return { provider, calls: () => calls };
    }

    const keyOf = (request: Received | undefined) =>
      /Credential=(\w+)\//.exec(request?.headers.authorization ?? '')?.[1];

    it('resolves credentials without expiry once', async () => {
      const source = counting();
      const delivery = signedDelivery(endpoint.url, { credentials: source.provider });
      await Promise.all(['a', 'b', 'c'].map((id) => delivery.post(id, 'x')));
      await delivery.post('d', 'x');
      expect(source.calls()).toBe(1);
      expect(endpoint.received.map(keyOf)).toEqual(['AKID1', 'AKID1', 'AKID1', 'AKID1']);
    });

    it('resolves them again once they come within five minutes of expiring', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-12-01T12:00:00Z'));
      const source = counting(60 * 60_000);
      const delivery = signedDelivery(endpoint.url, { credentials: source.provider });
      await delivery.post('a', 'x');
      vi.setSystemTime(new Date('2026-12-01T12:54:00Z'));
      await delivery.post('b', 'x');
      expect(source.calls()).toBe(1);
      vi.setSystemTime(new Date('2026-12-01T12:56:00Z'));
      await delivery.post('c', 'x');
      await delivery.post('d', 'x');
      expect(source.calls()).toBe(2);
      expect(endpoint.received.map(keyOf)).toEqual(['AKID1', 'AKID1', 'AKID2', 'AKID2']);
    });

    it('asks once for posts that find them expired together', async () => {
      const source = counting(60_000);
      const delivery = signedDelivery(endpoint.url, { credentials: source.provider });
      await delivery.post('a', 'x');
      await Promise.all(['b', 'c', 'd'].map((id) => delivery.post(id, 'x')));
      expect(source.calls()).toBe(2);
    });

    it('keeps using unexpired credentials when their refresh fails', async () => {
      let calls = 0;
      const delivery = signedDelivery(endpoint.url, {
        credentials: async () => {
          calls++;
          if (calls > 1) throw new Error('metadata service down');
          return { ...CREDENTIALS, expiration: new Date(Date.now() + 60_000) };
        },
      });
      await delivery.post('a', 'x');
      await delivery.post('b', 'x');
      expect(calls).toBe(2);
      expect(endpoint.received.map(keyOf)).toEqual(['AKIDLEAN', 'AKIDLEAN']);
    });
  });
});

describe('SignedPostDelivery over https', () => {
  let dir: string;
  let tls: { key: string; cert: string };
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;

  beforeAll(async () => {
    // A throwaway self-signed certificate for 127.0.0.1, made here so no key sits in the repo.
    dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    endpoint = await startEndpoint(tls);
  });
  afterAll(async () => {
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts signed frames over TLS on one keep-alive socket', async () => {
    const delivery = signedDelivery(`${endpoint.url}/prod`, {
      agent: new HttpsAgent({ keepAlive: true, maxSockets: 2, ca: tls.cert }),
    });
    await delivery.post('conn-1', '{"type":"notification"}');
    await delivery.post('conn-2', '{"type":"notification"}');
    expect(endpoint.received.map((request) => request.path)).toEqual([
      '/prod/@connections/conn-1',
      '/prod/@connections/conn-2',
    ]);
    expect(endpoint.sockets()).toBe(1);
    await expectValidSignature(endpoint.received[0] as Received);
  });

  it('classifies answers over TLS as over plain HTTP', async () => {
    endpoint.respond((_req, res) =>
      res.writeHead(410, { 'x-amzn-ErrorType': 'GoneException' }).end(),
    );
    const delivery = signedDelivery(endpoint.url, {
      agent: new HttpsAgent({ keepAlive: true, ca: tls.cert }),
    });
    expect(await rejectionOf(delivery.post('conn-1', 'x'))).toBeInstanceOf(ConnectionGoneError);
  });
});

describe('SignedPostDelivery.disconnect', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  beforeAll(async () => {
    endpoint = await startEndpoint();
  });
  afterAll(() => endpoint.close());

  it('DELETEs {callbackUrl}/@connections/{id}, signed', async () => {
    endpoint.respond((_req, res) => res.writeHead(204).end());
    await signedDelivery(`${endpoint.url}/prod`).disconnect('conn-1');
    const [request] = endpoint.received;
    expect(request?.method).toBe('DELETE');
    expect(request?.path).toBe('/prod/@connections/conn-1');
    await expectValidSignature(request as Received);
  });

  it('takes a connection already gone (410) as done, and rejects other failures', async () => {
    endpoint.respond((_req, res) => res.writeHead(410).end());
    await expect(signedDelivery(endpoint.url).disconnect('gone')).resolves.toBeUndefined();
    endpoint.respond((_req, res) => res.writeHead(503).end());
    expect(await rejectionOf(signedDelivery(endpoint.url).disconnect('c'))).toBeInstanceOf(
      RetryableError,
    );
  });
});
