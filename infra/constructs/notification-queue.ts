import { Duration, Validations } from 'aws-cdk-lib';
import { FilterOrPolicy, type ITopic, SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueTopology } from '#config/topology';
import { deadLetterQueue } from './dead-letter-queue';

export interface NotificationQueueProps {
  topic: ITopic;
  topology: QueueTopology;
}

/**
 * A queue subscribed to the notifications topic, with its own dead-letter queue.
 * Raw delivery stays off: consumers read the SNS envelope's `Timestamp`. A filter
 * from the topology applies to the message body, where `channels` lives. The
 * subscription's redrive policy sends what SNS cannot deliver to the queue (the queue
 * gone, its policy broken) to the same dead-letter queue, as the same SNS envelope, so
 * one redrive brings either back. The dead-letter queue outlives the stack.
 */
export class NotificationQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: NotificationQueueProps) {
    super(scope, id);
    const { topology } = props;

    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetterQueue',
      'this queue and its subscription',
    );
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'It is the dead-letter queue; its messages are redriven by an operator',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(topology.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: topology.maxReceiveCount },
    });

    props.topic.addSubscription(
      new SqsSubscription(this.queue, {
        rawMessageDelivery: false,
        // CDK adds the dead-letter queue's policy letting this topic send to it.
        deadLetterQueue: this.deadLetterQueue,
        filterPolicyWithMessageBody: toBodyFilter(topology.filterPolicy),
      }),
    );
  }
}

/** `{ channels: ['email'] }` → an SNS body filter allowing those strings (any array element matches). */
function toBodyFilter(
  policy: Readonly<Record<string, readonly string[]>> | undefined,
): Record<string, FilterOrPolicy> | undefined {
  if (!policy) return undefined;
  return Object.fromEntries(
    Object.entries(policy).map(([key, allowlist]) => [
      key,
      FilterOrPolicy.filter(SubscriptionFilter.stringFilter({ allowlist: [...allowlist] })),
    ]),
  );
}
