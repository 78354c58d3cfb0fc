import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INBOX_INDEX_LIST, INBOX_INDEX_PROJECTION } from '#config/inbox-indexes';
import { TABLE_KEYS, TOPOLOGY } from '#config/topology';
import { StatefulStack } from '#infra/stateful-stack';

/** The feature flags `cdk synth` uses, so the test sees the template the CLI makes. */
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

let stack: StatefulStack;
let template: Template;
const idOf = (resource: { node: { defaultChild?: unknown } }): string =>
  Stack.of(stack).getLogicalId(resource.node.defaultChild as CfnResource);

beforeAll(() => {
  const app = new App({ context: CDK_CONTEXT });
  stack = new StatefulStack(app, 'HeraldData');
  template = Template.fromStack(stack);
});

describe('tables', () => {
  it.each(['connections', 'notifications'] as const)(
    '%s: pk/sk strings, on demand, TTL, PITR, AWS-managed encryption, no global indexes, retained',
    (name) => {
      const tables = template.findResources('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          KeySchema: [
            { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
          ],
          AttributeDefinitions: Match.arrayWith([
            { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
            { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
          ]),
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttlAttribute, Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          GlobalSecondaryIndexes: Match.absent(),
          // CloudFormation names it: the local names are for the local stack only.
          TableName: Match.absent(),
        },
      });
      expect(Object.keys(tables)).toContain(idOf(stack[name]));
    },
  );

  it('gives only the notifications table its sparse local inbox indexes, one slot left free', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith(
        INBOX_INDEX_LIST.map((index) => ({ AttributeName: index.sortKey, AttributeType: 'S' })),
      ),
      LocalSecondaryIndexes: INBOX_INDEX_LIST.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...INBOX_INDEX_PROJECTION] },
      })),
    });
    expect(INBOX_INDEX_LIST.map((index) => index.name)).toEqual([
      'unread',
      'unseen',
      'visible',
      'hidden',
    ]);
    expect(INBOX_INDEX_LIST.length).toBeLessThan(5);
    // A filtered count never fetches the row: what filters read is projected.
    expect(INBOX_INDEX_PROJECTION).toEqual(
      expect.arrayContaining([TABLE_KEYS.ttlAttribute, 'tags', 'type', 'topic', 'read', 'seen']),
    );
    const indexed = template.findResources('AWS::DynamoDB::Table', {
      Properties: { LocalSecondaryIndexes: Match.anyValue() },
    });
    expect(Object.keys(indexed)).toEqual([idOf(stack.notifications)]);
  });

  it('tells functions which variable carries each table name', () => {
    expect(stack.connections.envName).toBe('HERALD_CONNECTIONS_TABLE');
    expect(stack.notifications.envName).toBe('HERALD_NOTIFICATIONS_TABLE');
  });
});

describe('topic', () => {
  it('refuses publishes that do not use TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: idOf(stack.topic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe.each(['fanOut', 'email'] as const)('%s queue', (name) => {
  const topology = TOPOLOGY.queues[name];

  it('has SQS-managed encryption, its visibility timeout and a redrive to its own DLQ', () => {
    const { queue, deadLetterQueue } = stack[name];
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: topology.visibilityTimeoutSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [idOf(deadLetterQueue), 'Arn'] },
        maxReceiveCount: topology.maxReceiveCount,
      },
    });
    // The redrive above must belong to this queue, not to its sibling.
    expect(
      template.findResources('AWS::SQS::Queue', {
        Properties: {
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(deadLetterQueue), 'Arn'] } },
        },
      }),
    ).toHaveProperty(idOf(queue));
  });

  it('keeps dead letters for 14 days, encrypted', () => {
    expect(
      template.findResources('AWS::SQS::Queue', {
        Properties: {
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: TOPOLOGY.deadLetterRetentionDays * 24 * 3600,
        },
      }),
    ).toHaveProperty(idOf(stack[name].deadLetterQueue));
    expect(TOPOLOGY.deadLetterRetentionDays).toBe(14);
  });

  it.each(['queue', 'deadLetterQueue'] as const)('%s enforces TLS', (which) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: idOf(stack[name][which]) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets only the topic send to it', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: idOf(stack[name].queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: idOf(stack.topic) } } },
          }),
        ]),
      },
    });
  });
});

describe('subscriptions', () => {
  it('delivers every envelope to the fan-out queue, wrapped (raw delivery off), unfiltered', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: idOf(stack.topic) },
      Endpoint: { 'Fn::GetAtt': [idOf(stack.fanOut.queue), 'Arn'] },
      RawMessageDelivery: false,
      FilterPolicy: Match.absent(),
      FilterPolicyScope: Match.absent(),
    });
  });

  it('delivers to the email queue only envelopes whose body channels include "email"', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: idOf(stack.topic) },
      Endpoint: { 'Fn::GetAtt': [idOf(stack.email.queue), 'Arn'] },
      RawMessageDelivery: false,
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: { channels: ['email'] },
    });
    expect(TOPOLOGY.queues.email.filterPolicy).toEqual({ channels: ['email'] });
  });
});

describe('outputs', () => {
  it('names the topic, the queues and the dead-letter queues', () => {
    template.hasOutput('TopicArn', { Value: { Ref: idOf(stack.topic) } });
    template.hasOutput('FanOutQueueUrl', { Value: { Ref: idOf(stack.fanOut.queue) } });
    template.hasOutput('EmailQueueUrl', { Value: { Ref: idOf(stack.email.queue) } });
    template.hasOutput('FanOutDeadLetterQueueName', {
      Value: { 'Fn::GetAtt': [idOf(stack.fanOut.deadLetterQueue), 'QueueName'] },
    });
    template.hasOutput('EmailDeadLetterQueueName', {
      Value: { 'Fn::GetAtt': [idOf(stack.email.deadLetterQueue), 'QueueName'] },
    });
    template.hasOutput('ConnectionsTableName', { Value: { Ref: idOf(stack.connections) } });
    template.hasOutput('NotificationsTableName', { Value: { Ref: idOf(stack.notifications) } });
  });
});

describe('notifications stream', () => {
  it('streams old images of the notifications table only, for the inbox-expiry function', () => {
    const streamed = template.findResources('AWS::DynamoDB::Table', {
      Properties: { StreamSpecification: { StreamViewType: 'OLD_IMAGE' } },
    });
    expect(Object.keys(streamed)).toEqual([idOf(stack.notifications)]);
    const anyStream = template.findResources('AWS::DynamoDB::Table', {
      Properties: { StreamSpecification: Match.anyValue() },
    });
    expect(Object.keys(anyStream)).toEqual([idOf(stack.notifications)]);
  });

  it('keeps failed expiry batches 14 days in an encrypted queue', () => {
    expect(
      template.findResources('AWS::SQS::Queue', {
        Properties: {
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: TOPOLOGY.deadLetterRetentionDays * 24 * 3600,
          RedrivePolicy: Match.absent(),
        },
      }),
    ).toHaveProperty(idOf(stack.expiryFailures));
  });
});
