import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TOPOLOGY } from '#config/topology';
import { deadLetterQueue } from './constructs/dead-letter-queue';
import { HeraldTable } from './constructs/herald-table';
import { NotificationQueue } from './constructs/notification-queue';
import { restrictPublishers } from './constructs/topic-publishers';

/** What the stateless stack builds on. */
export interface HeraldData {
  readonly connections: HeraldTable;
  readonly notifications: HeraldTable;
  readonly topic: Topic;
  /** The customer-managed key the topic is encrypted with; publishers need it too. */
  readonly topicKey: Key;
  readonly fanOut: NotificationQueue;
  readonly email: NotificationQueue;
  /** Where the inbox-expiry function's stream batches that kept failing are recorded. */
  readonly expiryFailures: Queue;
}

export interface StatefulStackProps extends StackProps {
  /** Who may publish to the topic (account ids, role ARNs); the deploying account when empty. */
  publisherPrincipals?: readonly string[];
}

/**
 * Everything that holds data: tables, the topic publishers write to, and the queues
 * with their dead letters. Kept apart from the code so redeploying functions never
 * touches data. Physical names are left to CloudFormation, so several copies can
 * live in one account; the outputs say what they are.
 */
export class StatefulStack extends Stack implements HeraldData {
  readonly connections: HeraldTable;
  readonly notifications: HeraldTable;
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly fanOut: NotificationQueue;
  readonly email: NotificationQueue;
  readonly expiryFailures: Queue;

  constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    const { publisherPrincipals = [], ...stackProps } = props;
    super(scope, id, stackProps);

    this.connections = new HeraldTable(this, 'Connections', { name: 'connections' });
    this.notifications = new HeraldTable(this, 'Notifications', {
      name: 'notifications',
      inboxIndexes: true,
      oldImageStream: true,
    });

    // Envelopes carry titles, bodies and addresses: encrypted at rest with a key this
    // account controls. SNS uses the key on a publisher's behalf, so a publisher needs
    // kms:GenerateDataKey* and kms:Decrypt on it (`topic.grantPublish` grants both).
    this.topicKey = new Key(this, 'TopicKey', {
      description: 'Herald: encrypts the notifications topic at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // EventBridge delivers to an encrypted topic only if the key lets it; AWS documents no
    // source conditions for this grant (the KMS request carries none).
    this.topicKey.grant(
      new ServicePrincipal('events.amazonaws.com'),
      'kms:GenerateDataKey*',
      'kms:Decrypt',
    );
    this.topic = new Topic(this, 'Topic', { enforceSSL: true, masterKey: this.topicKey });
    // Publishers keep publishing to the same ARN across a stack deletion and re-creation.
    this.topic.applyRemovalPolicy(RemovalPolicy.RETAIN);
    restrictPublishers(this.topic, publisherPrincipals);
    this.fanOut = new NotificationQueue(this, 'FanOut', {
      topic: this.topic,
      topology: TOPOLOGY.queues.fanOut,
    });
    this.email = new NotificationQueue(this, 'Email', {
      topic: this.topic,
      topology: TOPOLOGY.queues.email,
    });

    // A stream event source's on-failure destination: it receives where in the stream a
    // batch that kept failing lies (shard, sequence numbers), not the records themselves.
    this.expiryFailures = deadLetterQueue(this, 'ExpiryFailures', 'the stream event source');

    new CfnOutput(this, 'TopicArn', {
      value: this.topic.topicArn,
      description: 'Publish notification envelopes here',
    });
    new CfnOutput(this, 'TopicKeyArn', {
      value: this.topicKey.keyArn,
      description: 'Publishers need kms:GenerateDataKey* and kms:Decrypt on this key',
    });
    new CfnOutput(this, 'ConnectionsTableName', { value: this.connections.tableName });
    new CfnOutput(this, 'NotificationsTableName', { value: this.notifications.tableName });
    new CfnOutput(this, 'FanOutQueueUrl', { value: this.fanOut.queue.queueUrl });
    new CfnOutput(this, 'FanOutDeadLetterQueueName', {
      value: this.fanOut.deadLetterQueue.queueName,
    });
    new CfnOutput(this, 'ExpiryFailuresQueueName', { value: this.expiryFailures.queueName });
    new CfnOutput(this, 'EmailQueueUrl', { value: this.email.queue.queueUrl });
    new CfnOutput(this, 'EmailDeadLetterQueueName', {
      value: this.email.deadLetterQueue.queueName,
    });
  }
}
