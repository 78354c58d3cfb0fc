import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '#local/dev-token';
import type { LocalStack } from '#local/stack';
import {
  COMPOSE_FILE,
  checkLocalStack,
  describeHybrid,
  HYBRID_SERVICES,
  hybridConfig,
  LocalStackUnavailableError,
  localStackEndpoint,
} from '#localstack/hybrid';

describe('hybridConfig', () => {
  it('points every service at LocalStack on its default edge port, with npm start’s own ports', () => {
    const config = hybridConfig({});
    expect(config.endpoint).toBe('http://localhost:4566');
    expect(config.services).toEqual({
      dynamodb: 'http://localhost:4566',
      sns: 'http://localhost:4566',
      sqs: 'http://localhost:4566',
      ses: 'http://localhost:4566',
      sesViewer: 'http://localhost:4566/_aws/ses',
    });
    expect(config.ports.http).toBe(3000);
    expect(config.ports.websocket).toBe(3001);
    expect(config.jwtSecret).toBe(DEV_JWT_SECRET);
    expect(config.emailFrom).toBe('herald@localhost');
  });

  it('takes LOCALSTACK_ENDPOINT, the port variables, the secret and the sender from the environment', () => {
    const config = hybridConfig({
      LOCALSTACK_ENDPOINT: 'http://127.0.0.1:4577/',
      HERALD_HTTP_PORT: '8080',
      HERALD_WS_PORT: '0',
      HERALD_JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256-tokens',
      HERALD_EMAIL_FROM: 'Herald <noreply@example.com>',
      // Hybrid mode starts no emulators: their ports change nothing.
      HERALD_SQS_PORT: '9999',
    });
    expect(config.endpoint).toBe('http://127.0.0.1:4577');
    expect(config.services.sqs).toBe('http://127.0.0.1:4577');
    expect(config.services.sesViewer).toBe('http://127.0.0.1:4577/_aws/ses');
    expect(config.ports.http).toBe(8080);
    expect(config.ports.websocket).toBe(0);
    expect(config.jwtSecret).toBe('a-secret-that-is-long-enough-for-hs256-tokens');
    expect(config.emailFrom).toBe('Herald <noreply@example.com>');
  });

  it('refuses a port that is not one', () => {
    expect(() => hybridConfig({ HERALD_WS_PORT: '70000' })).toThrow(/HERALD_WS_PORT/);
    expect(() => hybridConfig({ HERALD_HTTP_PORT: 'http' })).toThrow(/HERALD_HTTP_PORT/);
  });
});

describe('localStackEndpoint', () => {
  it('keeps the origin and refuses what is not an http(s) origin', () => {
    expect(localStackEndpoint({ LOCALSTACK_ENDPOINT: ' https://ls.example:443 ' })).toBe(
      'https://ls.example',
    );
    expect(() => localStackEndpoint({ LOCALSTACK_ENDPOINT: 'localhost:4566' })).toThrow(
      /http\(s\) URL/,
    );
    expect(() => localStackEndpoint({ LOCALSTACK_ENDPOINT: 'not a url' })).toThrow(
      /LOCALSTACK_ENDPOINT/,
    );
    expect(() => localStackEndpoint({ LOCALSTACK_ENDPOINT: 'http://localhost:4566/api' })).toThrow(
      /no path/,
    );
  });
});

describe('checkLocalStack', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function serve(listener: RequestListener): Promise<string> {
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const asked: string[] = [];
  const healthy = (services: Record<string, string>) =>
    serve((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ services, edition: 'community', version: '4.14.0' }));
    });

  it('returns the edition, version and service states of a healthy LocalStack', async () => {
    const endpoint = await healthy({
      dynamodb: 'running',
      sns: 'available',
      sqs: 'available',
      ses: 'available',
    });
    const health = await checkLocalStack(endpoint, { required: HYBRID_SERVICES });
    expect(health).toEqual({
      edition: 'community',
      version: '4.14.0',
      services: { dynamodb: 'running', sns: 'available', sqs: 'available', ses: 'available' },
    });
    expect(asked.at(-1)).toBe('/_localstack/health');
  });

  it('names the compose file when LocalStack answers 503', async () => {
    const endpoint = await serve((_request, response) => {
      response.writeHead(503);
      response.end('starting');
    });
    const failure = checkLocalStack(endpoint);
    await expect(failure).rejects.toBeInstanceOf(LocalStackUnavailableError);
    await expect(failure).rejects.toThrow(`LocalStack at ${endpoint} is not healthy`);
    await expect(failure).rejects.toThrow('answered 503');
    await expect(failure).rejects.toThrow(`docker compose -f ${COMPOSE_FILE} up -d`);
  });

  it('names the compose file when nothing listens', async () => {
    const endpoint = await serve(() => undefined);
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));

    const failure = checkLocalStack(endpoint);
    await expect(failure).rejects.toBeInstanceOf(LocalStackUnavailableError);
    await expect(failure).rejects.toThrow(
      `LocalStack is not reachable at ${endpoint} (connection refused)`,
    );
    await expect(failure).rejects.toThrow(COMPOSE_FILE);
    await expect(failure).rejects.toThrow('LOCALSTACK_ENDPOINT');
  });

  it('gives up on a LocalStack that never answers', async () => {
    const endpoint = await serve(() => undefined);
    await expect(checkLocalStack(endpoint, { timeoutMs: 200 })).rejects.toThrow(
      'no answer within 0.2 s',
    );
  });

  it('refuses something on the port that is not LocalStack', async () => {
    const endpoint = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>hello</html>');
    });
    await expect(checkLocalStack(endpoint)).rejects.toThrow('is it LocalStack?');
  });

  it('says which service is missing and where SERVICES is set', async () => {
    const endpoint = await healthy({
      dynamodb: 'running',
      sns: 'available',
      sqs: 'available',
      ses: 'disabled',
    });
    const failure = checkLocalStack(endpoint, { required: HYBRID_SERVICES });
    await expect(failure).rejects.toThrow(/does not offer ses \(ses: disabled\)/);
    await expect(failure).rejects.toThrow(`SERVICES in ${COMPOSE_FILE}`);
    await expect(checkLocalStack(endpoint, { required: ['apigatewayv2'] })).rejects.toThrow(
      'apigatewayv2: absent',
    );
  });
});

describe('describeHybrid', () => {
  const stack = {
    urls: {
      http: 'http://127.0.0.1:3000',
      websocket: 'ws://127.0.0.1:3001',
      callback: 'http://127.0.0.1:3001',
      sns: 'http://localhost:4566',
      sqs: 'http://localhost:4566',
      dynamodb: 'http://localhost:4566',
      ses: 'http://localhost:4566',
      sesViewer: 'http://localhost:4566/_aws/ses',
    },
    topicArn: 'arn:aws:sns:us-east-1:000000000000:herald-notifications',
  } as unknown as LocalStack;
  const health = { edition: 'community', version: '4.14.0', services: {} };

  it('prints where everything is, and how to stop LocalStack', () => {
    const text = describeHybrid({ stack, health }, 'http://localhost:4566');
    expect(text).toContain('LocalStack 4.14.0 (community)');
    expect(text).toContain('ws://localhost:3001/?token=<JWT>');
    expect(text).toContain('http://localhost:3000/');
    expect(text).toContain('http://localhost:4566/_aws/ses');
    expect(text).toContain('arn:aws:sns:us-east-1:000000000000:herald-notifications');
    expect(text).toContain('npm run -s notify -- --to alice');
    expect(text).not.toContain('HERALD_SQS_PORT');
    expect(text).toContain(`docker compose -f ${COMPOSE_FILE} down`);
  });

  it('tells npm run notify where a LocalStack elsewhere is', () => {
    expect(describeHybrid({ stack, health }, 'http://localhost:4600')).toContain(
      'HERALD_SQS_PORT=4600 npm run -s notify',
    );
    const remote = describeHybrid({ stack, health }, 'http://ls.internal:4566');
    expect(remote).toContain('AWS_ENDPOINT_URL_SNS=http://ls.internal:4566');
    expect(remote).toContain(`HERALD_TOPIC_ARN=${stack.topicArn}`);
  });
});
