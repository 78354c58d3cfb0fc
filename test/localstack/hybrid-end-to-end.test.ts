/**
 * Hybrid mode end to end, with Herald's own emulators standing in for LocalStack (no Docker
 * here): DynamoDB Local, fauxqs and aws-ses-v2-local behind one "edge port" that answers
 * `/_localstack/health` and routes each request by the service its SigV4 signature names, as
 * LocalStack does. Its SES, like LocalStack's, refuses mail from a sender nobody verified.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signDevToken } from '#local/dev-token';
import { type DynamoDbLocal, startDynamoDbLocal } from '#local/dynamo-local';
import { type SesServer, startSesServer } from '#local/ses-server';
import { type Hybrid, hybridConfig, startHybrid } from '#localstack/hybrid';
import { eventually, LOCAL_CREDENTIALS } from '#test/support/e2e';

const SECRET = 'hybrid-test-secret-of-at-least-thirty-two-bytes';
type Service = 'dynamodb' | 'sns' | 'sqs' | 'ses';

interface FakeLocalStack {
  url: string;
  /** Addresses verified through SES's VerifyEmailIdentity. */
  verified: Set<string>;
  stop(): Promise<void>;
}

/** The service name in a SigV4 `Authorization` header's credential scope. */
const SIGNING_SERVICE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

async function startFakeLocalStack(backends: Record<Service, string>): Promise<FakeLocalStack> {
  const verified = new Set<string>();
  const agent = new Agent({ keepAlive: false });

  const sesXml = (response: ServerResponse, status: number, xml: string) => {
    response.writeHead(status, { 'content-type': 'text/xml' });
    response.end(`<?xml version="1.0"?>${xml}`);
  };

  const handle = (request: IncomingMessage, body: Buffer, response: ServerResponse) => {
    if (request.url === '/_localstack/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          services: { dynamodb: 'running', sns: 'running', sqs: 'running', ses: 'available' },
          edition: 'community',
          version: 'fake',
        }),
      );
      return;
    }
    const service = SIGNING_SERVICE.exec(request.headers.authorization ?? '')?.[1];
    if (service === 'ses') {
      const params = new URLSearchParams(body.toString('utf8'));
      const namespace = 'xmlns="http://ses.amazonaws.com/doc/2010-12-01/"';
      if (params.get('Action') === 'VerifyEmailIdentity') {
        verified.add(params.get('EmailAddress') ?? '');
        sesXml(
          response,
          200,
          `<VerifyEmailIdentityResponse ${namespace}><VerifyEmailIdentityResult/><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></VerifyEmailIdentityResponse>`,
        );
        return;
      }
      const source = params.get('Source') ?? '';
      const address = /<([^>]+)>/.exec(source)?.[1] ?? source;
      if (params.get('Action') === 'SendEmail' && !verified.has(address)) {
        sesXml(
          response,
          400,
          `<ErrorResponse ${namespace}><Error><Type>Sender</Type><Code>MessageRejected</Code><Message>Email address is not verified: ${address}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
        );
        return;
      }
    }
    const backend = service === undefined ? undefined : backends[service as Service];
    if (backend === undefined) {
      response.writeHead(400);
      response.end(`no backend for service ${service}`);
      return;
    }
    const target = new URL(request.url ?? '/', backend);
    const upstream = httpRequest(
      target,
      { method: request.method, headers: { ...request.headers, host: target.host }, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(String(error));
    });
    upstream.end(body);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    verified,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

let dynamo: DynamoDbLocal | undefined;
let fauxqs: FauxqsServer | undefined;
let ses: SesServer | undefined;
let localstack: FakeLocalStack | undefined;
let hybrid: Hybrid | undefined;
let sns: SNSClient | undefined;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  fauxqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  ses = await startSesServer({ port: 0 });
  const queues = `http://127.0.0.1:${fauxqs.port}`;
  localstack = await startFakeLocalStack({
    dynamodb: dynamo.endpoint,
    sns: queues,
    sqs: queues,
    ses: ses.url,
  });
  const config = hybridConfig({
    LOCALSTACK_ENDPOINT: localstack.url,
    HERALD_HTTP_PORT: '0',
    HERALD_WS_PORT: '0',
    HERALD_JWT_SECRET: SECRET,
  });
  hybrid = await startHybrid(config);
  sns = new SNSClient({
    endpoint: localstack.url,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  sns?.destroy();
  await hybrid?.stack.stop();
  await localstack?.stop();
  await ses?.stop();
  await fauxqs?.stop();
  await dynamo?.stop();
});

async function connect(userId: string, email?: string): Promise<Array<Record<string, unknown>>> {
  const token = await signDevToken({ userId, secret: SECRET, ...(email ? { email } : {}) });
  const socket = new WebSocket(`${hybrid?.stack.urls.websocket}/?token=${token}`);
  sockets.push(socket);
  const frames: Array<Record<string, unknown>> = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return frames;
}

async function publish(envelope: Record<string, unknown>): Promise<void> {
  await sns?.send(
    new PublishCommand({ TopicArn: hybrid?.stack.topicArn, Message: JSON.stringify(envelope) }),
  );
}

describe('hybrid mode on a LocalStack', () => {
  it('uses LocalStack for every AWS service and shows its sent mail', () => {
    const urls = hybrid?.stack.urls;
    expect(urls?.dynamodb).toBe(localstack?.url);
    expect(urls?.sns).toBe(localstack?.url);
    expect(urls?.sqs).toBe(localstack?.url);
    expect(urls?.ses).toBe(localstack?.url);
    expect(urls?.sesViewer).toBe(`${localstack?.url}/_aws/ses`);
    expect(hybrid?.health.version).toBe('fake');
    expect(hybrid?.stack.topicArn).toMatch(/:herald-notifications$/);
  });

  it('pushes a notification published to LocalStack’s SNS to the WebSocket emulator’s client', async () => {
    const frames = await connect('alice');
    await publish({
      id: 'evt-hybrid-1',
      type: 'comment.created',
      to: { users: ['alice'] },
      title: 'Hi',
    });
    await eventually(() => {
      const notification = frames.find((frame) => frame.type === 'notification');
      expect(notification?.notification).toMatchObject({ eventId: 'evt-hybrid-1', title: 'Hi' });
    });
  });

  it('mails an email-channel envelope through LocalStack’s SES, from the sender it verified', async () => {
    expect(localstack?.verified.has('herald@localhost')).toBe(true);
    await connect('erin', 'erin@example.com');
    await publish({
      id: 'evt-hybrid-2',
      type: 'comment.created',
      to: { users: ['erin'] },
      title: 'Mail me',
      channels: ['inapp', 'email'],
    });
    await eventually(async () => {
      const store = (await (await fetch(`${ses?.url}/store`)).json()) as {
        emails: Array<{ from: string; destination: { to: string[] } }>;
      };
      const mail = store.emails.find((each) => each.destination.to.includes('erin@example.com'));
      expect(mail, 'no mail to erin yet').toBeDefined();
      expect(mail?.from).toContain('herald@localhost');
    });
  });
});
