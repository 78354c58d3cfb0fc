import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPOLOGY } from '#config/topology';
import { createMessaging, type Messaging } from '#local/messaging';

interface SnsWrapper {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
}

describe('createMessaging (against fauxqs)', () => {
  let server: FauxqsServer;
  let sns: SNSClient;
  let sqs: SQSClient;
  let messaging: Messaging;

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, logger: false });
    const config = {
      endpoint: server.address,
      region: TOPOLOGY.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    sns = new SNSClient(config);
    sqs = new SQSClient(config);
    messaging = await createMessaging({ sns, sqs });
  });

  afterAll(async () => {
    sns?.destroy();
    sqs?.destroy();
    await server?.stop();
  });

  async function drain(queueUrl: string): Promise<SnsWrapper[]> {
    const wrappers: SnsWrapper[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) return wrappers;
      wrappers.push(...Messages.map((m) => JSON.parse(m.Body ?? '') as SnsWrapper));
    }
  }

  async function queueAttributes(queueUrl: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    return Attributes;
  }

  it('is idempotent: a second run returns the same resources', async () => {
    expect(await createMessaging({ sns, sqs })).toEqual(messaging);
    const { Subscriptions = [] } = await sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: messaging.topicArn }),
    );
    expect(Subscriptions).toHaveLength(2);
  });

  it('names the topic and queues as the topology does', () => {
    expect(messaging.topicArn).toMatch(new RegExp(`:${TOPOLOGY.topic.name}$`));
    expect(messaging.queues.fanOut.arn).toMatch(new RegExp(`:${TOPOLOGY.queues.fanOut.name}$`));
    expect(messaging.queues.fanOut.deadLetterArn).toMatch(
      new RegExp(`:${TOPOLOGY.queues.fanOut.deadLetterName}$`),
    );
    expect(messaging.queues.email.arn).toMatch(new RegExp(`:${TOPOLOGY.queues.email.name}$`));
    expect(messaging.queues.email.deadLetterArn).toMatch(
      new RegExp(`:${TOPOLOGY.queues.email.deadLetterName}$`),
    );
  });

  it.each(['fanOut', 'email'] as const)(
    'sets the %s queue visibility timeout, redrive policy and DLQ retention',
    async (name) => {
      const wiring = messaging.queues[name];
      const topology = TOPOLOGY.queues[name];
      const queue = await queueAttributes(wiring.url);
      expect(queue.VisibilityTimeout).toBe(String(topology.visibilityTimeoutSeconds));
      const redrive = JSON.parse(queue.RedrivePolicy ?? '{}') as Record<string, unknown>;
      expect(redrive.deadLetterTargetArn).toBe(wiring.deadLetterArn);
      expect(Number(redrive.maxReceiveCount)).toBe(topology.maxReceiveCount);
      const deadLetter = await queueAttributes(wiring.deadLetterUrl);
      expect(deadLetter.MessageRetentionPeriod).toBe(
        String(TOPOLOGY.deadLetterRetentionDays * 86_400),
      );
    },
  );

  it('subscribes both queues with the SNS wrapper and the email body filter', async () => {
    const { Subscriptions = [] } = await sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: messaging.topicArn }),
    );
    const byEndpoint = new Map(Subscriptions.map((s) => [s.Endpoint, s.SubscriptionArn]));
    const attributesOf = async (queueArn: string) =>
      (
        await sns.send(
          new GetSubscriptionAttributesCommand({ SubscriptionArn: byEndpoint.get(queueArn) }),
        )
      ).Attributes ?? {};

    const fanOut = await attributesOf(messaging.queues.fanOut.arn);
    expect(fanOut.RawMessageDelivery).toBe('false');
    expect(fanOut.FilterPolicy).toBeUndefined();
    const email = await attributesOf(messaging.queues.email.arn);
    expect(email.RawMessageDelivery).toBe('false');
    expect(JSON.parse(email.FilterPolicy ?? '{}')).toEqual(TOPOLOGY.queues.email.filterPolicy);
    expect(email.FilterPolicyScope).toBe('MessageBody');
  });

  it('routes every envelope to the fan-out and only email ones to the email queue', async () => {
    const envelopes = [
      {
        id: 'evt-both',
        type: 'comment.created',
        to: { users: ['bob'] },
        channels: ['inapp', 'email'],
      },
      { id: 'evt-inapp', type: 'comment.created', to: { users: ['bob'] }, channels: ['inapp'] },
      { id: 'evt-default', type: 'comment.created', to: { users: ['bob'] } },
    ];
    const published = new Map<string, string>();
    for (const envelope of envelopes) {
      const { MessageId } = await sns.send(
        new PublishCommand({ TopicArn: messaging.topicArn, Message: JSON.stringify(envelope) }),
      );
      published.set(envelope.id, MessageId ?? '');
    }

    const fanOut = await drain(messaging.queues.fanOut.url);
    const email = await drain(messaging.queues.email.url);

    const idOf = (wrapper: SnsWrapper) => (JSON.parse(wrapper.Message) as { id: string }).id;
    expect(fanOut.map(idOf).sort()).toEqual(['evt-both', 'evt-default', 'evt-inapp']);
    expect(email.map(idOf)).toEqual(['evt-both']);
    for (const wrapper of [...fanOut, ...email]) {
      expect(wrapper.Type).toBe('Notification');
      expect(wrapper.TopicArn).toBe(messaging.topicArn);
      expect(wrapper.MessageId).toBe(published.get(idOf(wrapper)));
      expect(Number.isNaN(Date.parse(wrapper.Timestamp))).toBe(false);
    }
    expect(JSON.parse(email[0]?.Message ?? '')).toEqual(envelopes[0]);
  });
});
