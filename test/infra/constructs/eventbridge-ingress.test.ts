import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { HERALD_DETAIL_TYPE } from '#config/eventbridge-ingress';
import { EventBridgeIngress } from '#infra/constructs/eventbridge-ingress';

function synth(props: { busName?: string; sourceTenants?: Record<string, string> }) {
  const stack = new Stack(new App(), 'Ingress');
  const topic = new Topic(stack, 'Topic');
  new EventBridgeIngress(stack, 'EventBridgeIngress', {
    topic,
    busName: props.busName,
    sourceTenants: props.sourceTenants ?? {},
  });
  return {
    template: Template.fromStack(stack),
    topicId: stack.getLogicalId(topic.node.defaultChild as never),
  };
}

describe('EventBridgeIngress', () => {
  it('passes the detail of herald.* Herald Notifications on the default bus to the topic', () => {
    const { template, topicId } = synth({});
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'default',
      EventPattern: { source: [{ prefix: 'herald.' }], 'detail-type': [HERALD_DETAIL_TYPE] },
      Targets: [
        Match.objectLike({
          Arn: { Ref: topicId },
          InputPath: '$.detail',
          RoleArn: Match.anyValue(),
        }),
      ],
    });
    template.resourceCountIs('AWS::Events::Rule', 1);
  });

  it('binds each configured source to its tenant, on the configured bus', () => {
    const { template } = synth({
      busName: 'orders',
      sourceTenants: { 'com.acme.billing': 'acme' },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'orders',
      EventPattern: {
        source: ['com.acme.billing'],
        'detail-type': [HERALD_DETAIL_TYPE],
        detail: { tenant: ['acme'] },
      },
    });
  });

  it('publishes through one role allowed sns:Publish on the topic alone, not a topic policy', () => {
    const { template, topicId } = synth({ sourceTenants: { 'com.acme.billing': 'acme' } });
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.map((each) => each.Properties.PolicyDocument.Statement)).toEqual([
      [{ Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: topicId } }],
    ]);
  });
});
