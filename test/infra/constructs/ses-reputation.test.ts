import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readSettings } from '#infra/constructs/herald-settings';
import { HeraldTable } from '#infra/constructs/herald-table';
import { SesReputation } from '#infra/constructs/ses-reputation';

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'Ses');
  const notifications = new HeraldTable(stack, 'Notifications', { name: 'notifications' });
  const ses = new SesReputation(stack, 'Ses', { notifications, settings: readSettings(app.node) });
  return { template: Template.fromStack(stack), stack, ses };
}

describe('SesReputation', () => {
  it('reports bounces and complaints of its configuration set to a topic the feedback function reads', () => {
    const { template, stack, ses } = synth();
    const setId = stack.getLogicalId(ses.configurationSet.node.defaultChild as never);
    const topicId = stack.getLogicalId(ses.feedbackTopic.node.defaultChild as never);
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: setId },
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: Match.arrayEquals(['bounce', 'complaint']),
        SnsDestination: { TopicARN: { Ref: topicId } },
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'herald-ses-feedback' }),
      },
    });
  });

  it('lets the feedback function only put items (besides tracing)', () => {
    const { template } = synth();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown }>,
    );
    expect(statements.map((statement) => statement.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      'dynamodb:PutItem',
    ]);
  });

  it('verifies the context emailDomain with Easy DKIM and outputs its records', () => {
    const { template } = synth({ emailDomain: 'Mail.Example.com' });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'mail.example.com',
      ConfigurationSetAttributes: { ConfigurationSetName: Match.anyValue() },
    });
    expect(
      Object.keys(template.findOutputs('*')).filter((key) => key.includes('Dkim')),
    ).toHaveLength(3);
  });

  it('makes no identity without emailDomain, and refuses one that is not a domain', () => {
    synth().template.resourceCountIs('AWS::SES::EmailIdentity', 0);
    expect(() => synth({ emailDomain: 'not a domain' })).toThrow(/emailDomain/);
  });
});
