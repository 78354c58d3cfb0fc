import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#config/env-names';
import { METRIC, METRIC_NAMESPACE } from '#config/metric-names';
import { readSettings } from '#infra/constructs/herald-settings';
import { StatefulStack } from '#infra/stateful-stack';
import { StatelessStack } from '#infra/stateless-stack';

const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

let code: StatelessStack;
let template: Template;

const logicalId = (construct: { node: { defaultChild?: unknown } }): string => {
  const child = construct.node.defaultChild as CfnResource;
  return Stack.of(child).getLogicalId(child);
};

beforeAll(() => {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const settings = readSettings(app.node);
  const data = new StatefulStack(app, 'HeraldData');
  code = new StatelessStack(app, 'HeraldApp', { data, settings });
  template = Template.fromStack(code);
});

describe('snooze wake-up', () => {
  it('runs every minute from an EventBridge schedule, with no retry piling up', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(code.snooze.function), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(code.snooze.function), 'Arn'] },
    });
  });

  it('is told both tables and the callback URL, and stops before the next run starts', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 50,
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'herald-snooze-sweep',
          [ENV.notificationsTable]: Match.anyValue(),
          [ENV.connectionsTable]: Match.anyValue(),
          [ENV.callbackUrl]: Match.anyValue(),
        }),
      },
    });
  });

  it('alarms when its watermark falls behind, and on its errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: METRIC_NAMESPACE,
              MetricName: METRIC.snoozeBacklogMinutes,
              Dimensions: [{ Name: 'service', Value: 'herald-snooze-sweep' }],
            },
            Stat: 'Maximum',
          }),
        }),
      ],
    });
    const errors = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmDescription: Match.stringLikeRegexp('^SnoozeSweep: the function failed') },
    });
    expect(Object.keys(errors)).toHaveLength(1);
  });
});
