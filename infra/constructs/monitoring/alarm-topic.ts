import { ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Subscribed by email when given (the address confirms the subscription once). */
  email?: string;
}

/**
 * Where every Herald alarm goes: an SNS topic, encrypted with a key of its own that only
 * this account's CloudWatch alarms may use to publish, plus an optional email subscription.
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = new Key(this, 'Key', {
      description: 'Herald: encrypts the alarm topic at rest',
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it; the conditions keep
    // other accounts' alarms from using it (the confused deputy).
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    });
    key.grant(cloudWatch, 'kms:GenerateDataKey*', 'kms:Decrypt');
    this.topic = new Topic(this, 'Topic', { enforceSSL: true, masterKey: key });
    // The topic policy (made for enforceSSL) replaces SNS's default one, so it names CloudWatch.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        actions: ['sns:Publish'],
        principals: [cloudWatch],
        resources: [this.topic.topicArn],
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    new CfnOutput(this, 'Arn', {
      value: this.topic.topicArn,
      description: 'Herald alarms are published here; subscribe a pager or chat to it',
    });
  }
}
