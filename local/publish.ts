/**
 * `npm run notify -- --to alice --title Hello`: publishes one envelope with the real
 * `@aws-sdk/client-sns`. It goes to the local stack by default; with `--aws` (or when
 * `AWS_ENDPOINT_URL_SNS` points elsewhere) to that SNS, given the topic's ARN. With
 * `--eventbridge` it puts the envelope on an EventBridge bus instead (`PutEvents` with the
 * real `@aws-sdk/client-eventbridge`), the local stack's unless `--aws` or
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` says otherwise.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { TOPOLOGY } from '#config/topology';
import { parseEnvelope } from '#core/envelope';
import type { Envelope } from '#core/model';
import { DEFAULT_EVENT_SOURCE, putEnvelope } from './eventbridge-put';
import { runDirectly } from './run-directly';
import { quietSdkNodeNotice } from './settings';

const USAGE = `usage: publish (--to user[,user…] | --topic name) [--title t] [--body b] [--type t]
               [--tenant t] [--channels inapp,email] [--url u] [--data '{"k":1}'] [--id id]
               [--collapse-key k] [--topic-arn arn] [--aws]
               [--eventbridge [--source s] [--event-bus name]]`;

/** fauxqs's account, as it reports it in ARNs. */
const LOCAL_TOPIC_ARN = `arn:aws:sns:${TOPOLOGY.region}:000000000000:${TOPOLOGY.topic.name}`;
const LOCAL_ENDPOINT = `http://localhost:${process.env.HERALD_SQS_PORT || 4566}`;
const LOCAL_EVENTBRIDGE = `http://localhost:${process.env.HERALD_EVENTBRIDGE_PORT || 8010}`;
const LOCAL_CLIENT = {
  region: TOPOLOGY.region,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};

/** Where `--eventbridge` puts the envelope. */
export interface EventBridgeTarget {
  source: string;
  busName?: string;
}

export function envelopeFromArgs(args: string[]): {
  envelope: Envelope;
  topicArn?: string;
  aws: boolean;
  /** Set by `--eventbridge`. */
  eventBridge?: EventBridgeTarget;
} {
  const { values } = parseArgs({
    args,
    options: {
      to: { type: 'string' },
      topic: { type: 'string' },
      title: { type: 'string' },
      body: { type: 'string' },
      type: { type: 'string', default: 'demo.message' },
      tenant: { type: 'string' },
      channels: { type: 'string' },
      url: { type: 'string' },
      data: { type: 'string' },
      id: { type: 'string' },
      'collapse-key': { type: 'string' },
      'topic-arn': { type: 'string' },
      aws: { type: 'boolean', default: false },
      eventbridge: { type: 'boolean', default: false },
      source: { type: 'string' },
      'event-bus': { type: 'string' },
    },
    strict: true,
  });
  if ((values.to === undefined) === (values.topic === undefined)) {
    throw new Error(`give exactly one of --to and --topic\n${USAGE}`);
  }
  const envelope = parseEnvelope({
    id: values.id ?? randomUUID(),
    type: values.type,
    to:
      values.to !== undefined
        ? { users: values.to.split(',').filter(Boolean) }
        : { topic: values.topic },
    tenant: values.tenant,
    title: values.title,
    body: values.body,
    url: values.url,
    data: values.data === undefined ? undefined : JSON.parse(values.data),
    channels: values.channels?.split(',').filter(Boolean),
    collapseKey: values['collapse-key'],
  });
  if (!values.eventbridge && (values.source !== undefined || values['event-bus'] !== undefined)) {
    throw new Error(`--source and --event-bus go with --eventbridge\n${USAGE}`);
  }
  const eventBridge = values.eventbridge
    ? { source: values.source ?? DEFAULT_EVENT_SOURCE, busName: values['event-bus'] }
    : undefined;
  return { envelope, topicArn: values['topic-arn'], aws: values.aws ?? false, eventBridge };
}

async function putThroughEventBridge(
  envelope: Envelope,
  target: EventBridgeTarget,
  aws: boolean,
): Promise<void> {
  const local = !aws && process.env.AWS_ENDPOINT_URL_EVENTBRIDGE === undefined;
  const client = new EventBridgeClient(
    local ? { endpoint: LOCAL_EVENTBRIDGE, ...LOCAL_CLIENT } : {},
  );
  try {
    const eventId = await putEnvelope(client, envelope, target);
    console.log(JSON.stringify({ id: envelope.id, eventId }));
  } finally {
    client.destroy();
  }
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const { envelope, topicArn, aws, eventBridge } = envelopeFromArgs(process.argv.slice(2));
  if (eventBridge) return putThroughEventBridge(envelope, eventBridge, aws);
  if (aws && topicArn === undefined) throw new Error('--aws needs --topic-arn');
  const local = !aws && process.env.AWS_ENDPOINT_URL_SNS === undefined;
  const sns = new SNSClient(local ? { endpoint: LOCAL_ENDPOINT, ...LOCAL_CLIENT } : {});
  const published = await sns.send(
    new PublishCommand({
      TopicArn: topicArn ?? process.env.HERALD_TOPIC_ARN ?? LOCAL_TOPIC_ARN,
      Message: JSON.stringify(envelope),
    }),
  );
  console.log(JSON.stringify({ id: envelope.id, messageId: published.MessageId }));
  sns.destroy();
}

if (runDirectly(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
