/**
 * End to end on the launched local stack, with real clients only: `ws` sockets holding
 * dev tokens, `@aws-sdk/client-sns` publishing to the local SNS endpoint, the SES
 * emulator's store, and SQS for the dead-letter queue.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { type E2e, eventually, roundTrip, startE2e } from '#test/support/e2e';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const connect: E2e['connect'] = (...args) => e2e.connect(...args);
const publish: E2e['publish'] = (envelope) => e2e.publish(envelope);

describe('the local stack, end to end', () => {
  it('refuses a bad token with 401 at the handshake', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${e2e.stack.urls.websocket}/?token=not-a-jwt`);
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => reject(new Error('a bad token was let in')));
      socket.once('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('pushes a notification published to SNS to every live connection of its user, and to nobody else', async () => {
    const alice1 = await connect('alice');
    const alice2 = await connect('alice');
    const bob = await connect('bob');
    const otherTenantAlice = await connect('alice', { tenant: 'globex' });

    // A connection whose $disconnect never came: its record is there, its socket is not.
    const doc = e2e.doc;
    const store = new DynamoConnectionStore(doc, e2e.stack.tables.connections);
    await store.put(
      {
        connectionId: 'stale-connection=',
        tenant: 'default',
        userId: 'alice',
        topicPatterns: [],
        topics: [],
        connectedAt: Date.now() - 60_000,
      },
      Math.floor(Date.now() / 1000) + 3600,
    );
    expect(await store.get('stale-connection=')).toBeDefined();

    await publish({
      id: 'evt-e2e-1',
      type: 'comment.created',
      to: { users: ['alice'] },
      title: 'Hi',
    });

    await eventually(() => {
      expect(alice1.notifications()).toHaveLength(1);
      expect(alice2.notifications()).toHaveLength(1);
    });
    expect(alice1.notifications()[0]).toMatchObject({
      eventId: 'evt-e2e-1',
      title: 'Hi',
      read: false,
    });
    // The stale connection answered 410 at the push and is gone from the table.
    await eventually(async () => expect(await store.get('stale-connection=')).toBeUndefined());

    // Publishing the same id again yields nothing new.
    await publish({
      id: 'evt-e2e-1',
      type: 'comment.created',
      to: { users: ['alice'] },
      title: 'Hi',
    });
    await publish({
      id: 'evt-e2e-2',
      type: 'comment.created',
      to: { users: ['alice'] },
      title: 'Next',
    });
    await eventually(() =>
      expect(alice1.notifications().map((n) => n.eventId)).toContain('evt-e2e-2'),
    );
    await roundTrip(bob);
    await roundTrip(otherTenantAlice);
    expect(alice1.notifications().filter((n) => n.eventId === 'evt-e2e-1')).toHaveLength(1);
    expect(bob.notifications()).toEqual([]);
    expect(otherTenantAlice.notifications()).toEqual([]);
  });

  it('broadcasts to a topic only the connections subscribed to it', async () => {
    const subscriber = await connect('carol', { topics: ['project.*'] });
    const bystander = await connect('dave', { topics: ['project.*'] });
    subscriber.socket.send(
      JSON.stringify({ action: 'subscribe', requestId: 's1', topics: ['project.42'] }),
    );
    await eventually(() =>
      expect(subscriber.frames).toContainEqual(
        expect.objectContaining({ requestId: 's1', ok: true }),
      ),
    );
    await publish({
      id: 'evt-topic-1',
      type: 'build.done',
      to: { topic: 'project.42' },
      title: 'Green',
    });
    await eventually(() => expect(subscriber.notifications()).toHaveLength(1));
    expect(subscriber.notifications()[0]).toMatchObject({ topic: 'project.42', title: 'Green' });
    await roundTrip(bystander);
    expect(bystander.notifications()).toEqual([]);
  });

  it('mails an email-channel envelope to the address from the token, through the SES emulator', async () => {
    await connect('erin', { email: 'erin@example.com' });
    await publish({
      id: 'evt-mail-1',
      type: 'invoice.ready',
      to: { users: ['erin'] },
      title: 'Your invoice',
      body: 'It is ready',
      channels: ['inapp', 'email'],
    });
    await eventually(async () => {
      const store = (await (await fetch(`${e2e.stack.urls.ses}/store`)).json()) as {
        emails: Array<{ destination: { to: string[] }; subject: string; body: { text: string } }>;
      };
      const mail = store.emails.find((each) => each.destination.to.includes('erin@example.com'));
      expect(mail).toMatchObject({ subject: 'Your invoice', body: { text: 'It is ready' } });
    });
  });

  it('puts an invalid envelope in the dead-letter queue with its reason', async () => {
    await publish({ id: 'evt-bad-1', type: 'Not Valid!', to: { users: ['alice'] } });
    await eventually(async () => {
      const received = await e2e.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: e2e.stack.queues.fanOut.deadLetterUrl,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      const message = received.Messages?.find((each) => each.Body?.includes('evt-bad-1'));
      expect(message?.MessageAttributes?.['herald.reason']?.StringValue).toMatch(/type/);
    });
  });

  it('answers a bad frame with an error and keeps the socket open', async () => {
    const client = await connect('frank');
    client.socket.send('{not json');
    await eventually(() =>
      expect(client.frames).toContainEqual({
        type: 'error',
        error: { code: 'bad_frame', message: 'frame is not JSON' },
      }),
    );
    await roundTrip(client);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });
});
