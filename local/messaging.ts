/**
 * Builds Herald's SNS topic, SQS queues, dead-letter queues and subscriptions from the shared
 * `TOPOLOGY`, against whatever endpoint the clients point at (fauxqs locally). Every call here is
 * idempotent in SNS/SQS while the attributes match, so running it twice changes nothing.
 */
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type QueueName, type QueueTopology, TOPOLOGY } from '#config/topology';

export interface QueueWiring {
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
}

export interface Messaging {
  topicArn: string;
  queues: Record<QueueName, QueueWiring>;
}

const SECONDS_PER_DAY = 86_400;

export interface MessagingOptions {
  /** The queues' visibility timeout instead of TOPOLOGY's (AWS's): how soon a failed batch returns. */
  visibilityTimeoutSeconds?: number;
}

export async function createMessaging(
  clients: { sns: SNSClient; sqs: SQSClient },
  options: MessagingOptions = {},
): Promise<Messaging> {
  const { sns, sqs } = clients;
  const topic = await sns.send(new CreateTopicCommand({ Name: TOPOLOGY.topic.name }));
  const topicArn = required(topic.TopicArn, 'CreateTopic returned no TopicArn');

  const fanOut = await createQueuePair(sqs, TOPOLOGY.queues.fanOut, options);
  const email = await createQueuePair(sqs, TOPOLOGY.queues.email, options);
  await subscribe(sns, topicArn, fanOut.arn, TOPOLOGY.queues.fanOut);
  await subscribe(sns, topicArn, email.arn, TOPOLOGY.queues.email);

  return { topicArn, queues: { fanOut, email } };
}

async function createQueuePair(
  sqs: SQSClient,
  queue: QueueTopology,
  options: MessagingOptions,
): Promise<QueueWiring> {
  const deadLetterUrl = await createQueue(sqs, queue.deadLetterName, {
    MessageRetentionPeriod: String(TOPOLOGY.deadLetterRetentionDays * SECONDS_PER_DAY),
  });
  const deadLetterArn = await queueArn(sqs, deadLetterUrl);
  const url = await createQueue(sqs, queue.name, {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterArn,
      maxReceiveCount: queue.maxReceiveCount,
    }),
  });
  return { url, arn: await queueArn(sqs, url), deadLetterUrl, deadLetterArn };
}

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return required(created.QueueUrl, `CreateQueue ${name} returned no QueueUrl`);
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return required(Attributes?.QueueArn, `GetQueueAttributes ${url} returned no QueueArn`);
}

async function subscribe(
  sns: SNSClient,
  topicArn: string,
  queueArn: string,
  queue: QueueTopology,
): Promise<void> {
  // The consumers parse SNS's JSON wrapper (Type, MessageId, Message …), as in the CDK stack.
  const attributes: Record<string, string> = { RawMessageDelivery: 'false' };
  if (queue.filterPolicy) {
    attributes.FilterPolicy = JSON.stringify(queue.filterPolicy);
    attributes.FilterPolicyScope = 'MessageBody';
  }
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}
