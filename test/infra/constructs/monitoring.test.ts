import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, METRIC_NAMESPACE } from '#config/metric-names';
import { readSettings } from '#infra/constructs/herald-settings';
import { StatefulStack } from '#infra/stateful-stack';
import { StatelessStack } from '#infra/stateless-stack';

const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

function synth(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const settings = readSettings(app.node);
  const data = new StatefulStack(app, 'HeraldData');
  const code = new StatelessStack(app, 'HeraldApp', { data, settings });
  return { data, code, template: Template.fromStack(code), dataTemplate: Template.fromStack(data) };
}

const logicalId = (construct: { node: { defaultChild?: unknown } }): string => {
  const child = construct.node.defaultChild as CfnResource;
  return Stack.of(child).getLogicalId(child);
};

type Props = Record<string, unknown>;
let h: ReturnType<typeof synth>;
let alarms: Props[];
let alarmTopicRef: unknown;

beforeAll(() => {
  h = synth({ alarmEmail: 'ops@example.com' });
  alarms = Object.values(h.template.findResources('AWS::CloudWatch::Alarm')).map(
    (resource) => resource.Properties as Props,
  );
  const topics = h.template.findResources('AWS::SNS::Topic');
  const topicId = Object.keys(topics).find((id) => id.startsWith('MonitoringAlarmsTopic'));
  alarmTopicRef = { Ref: topicId };
});

/** The alarms whose metric (or one metric of whose expression) matches. */
function alarmsOn(metricName: string, dimensions?: Props): Props[] {
  const matches = (metric: Props | undefined): boolean => {
    if (!metric || metric.MetricName !== metricName) return false;
    if (!dimensions) return true;
    const dims = (metric.Dimensions as Array<{ Name: string; Value: unknown }>) ?? [];
    return Object.entries(dimensions).every(([name, value]) =>
      dims.some((d) => d.Name === name && JSON.stringify(d.Value) === JSON.stringify(value)),
    );
  };
  return alarms.filter((alarm) => {
    if (matches(alarm as Props)) return true;
    const metrics = (alarm.Metrics as Array<{ MetricStat?: { Metric: Props } }>) ?? [];
    return metrics.some((m) => matches(m.MetricStat?.Metric));
  });
}

describe('alarms', () => {
  it('each goes to the alarm topic when it fires and when it clears', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([alarmTopicRef]);
      expect(alarm.OKActions).toEqual([alarmTopicRef]);
      expect(alarm.AlarmDescription).toEqual(expect.any(String));
    }
  });

  it('fire on any message in each dead-letter queue', () => {
    const dlqAlarms = alarmsOn('ApproximateNumberOfMessagesVisible');
    // fan-out, email, expiry failures, EventBridge ingress, SES feedback
    expect(dlqAlarms).toHaveLength(5);
    for (const alarm of dlqAlarms) {
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Maximum',
      });
    }
  });

  it('watch the age of the oldest message on both work queues', () => {
    const ages = alarmsOn('ApproximateAgeOfOldestMessage');
    expect(ages.map((alarm) => alarm.Threshold).sort()).toEqual([300, 900]);
  });

  it('watch every function: errors, throttles, and p99 duration at 80% of its timeout', () => {
    const functions = h.template.findResources('AWS::Lambda::Function');
    const ids = Object.keys(functions);
    // connect, disconnect, message, authorizer, fan-out, email, http-api, http-authorizer,
    // inbox-expiry, connection-sweep, cut-off, ses-feedback, snooze-sweep
    expect(ids.length).toBe(13);
    for (const id of ids) {
      const name = { Ref: id };
      expect(alarmsOn('Errors', { FunctionName: name })).toHaveLength(1);
      expect(alarmsOn('Throttles', { FunctionName: name })).toHaveLength(1);
      const [duration] = alarmsOn('Duration', { FunctionName: name });
      const timeout = Number(functions[id]?.Properties?.Timeout);
      expect(duration).toMatchObject({ ExtendedStatistic: 'p99', Threshold: timeout * 800 });
    }
  });

  it('watch the WebSocket stage for integration and execution errors', () => {
    const api = { Ref: logicalId(h.code.gateway.api) };
    expect(alarmsOn('IntegrationError', { ApiId: api })).toHaveLength(1);
    expect(alarmsOn('ExecutionError', { ApiId: api })).toHaveLength(1);
  });

  it('watch the HTTP API 5xx rate as a share of its requests', () => {
    const [rate] = alarmsOn('5xx', { ApiId: { Ref: logicalId(h.code.http.api) } });
    expect(rate).toBeDefined();
    const metrics = rate?.Metrics as Array<{ Expression?: string }>;
    expect(metrics.some((m) => m.Expression?.includes('errors / requests'))).toBe(true);
  });

  it('watch both tables for throttles and system errors', () => {
    for (const table of [h.data.connections, h.data.notifications]) {
      const tableAlarms = alarms.filter((alarm) =>
        JSON.stringify(alarm.Metrics ?? []).includes(logicalId(table)),
      );
      const names = JSON.stringify(tableAlarms);
      expect(names).toContain('"ThrottledRequests"');
      expect(names).toContain('"SystemErrors"');
    }
  });

  it('watch SES bounce and complaint rates before AWS reviews the account', () => {
    const [bounce] = alarmsOn('Reputation.BounceRate');
    const [complaint] = alarmsOn('Reputation.ComplaintRate');
    expect(bounce).toMatchObject({ Namespace: 'AWS/SES' });
    expect(bounce?.Threshold as number).toBeLessThan(0.05);
    expect(complaint?.Threshold as number).toBeLessThan(0.001);
  });

  it("watch Herald's own metrics: abandoned pushes, rejected messages, @connections 429s", () => {
    const fanOut = { service: 'herald-fan-out' };
    for (const name of [METRIC.abandoned, METRIC.messagesRejected, METRIC.connectionsThrottled]) {
      const [alarm] = alarmsOn(name, fanOut);
      expect(JSON.stringify(alarm)).toContain(`"Namespace":"${METRIC_NAMESPACE}"`);
    }
    expect(alarmsOn(METRIC.messagesRejected, { service: 'herald-email' })).toHaveLength(1);
  });
});

describe('alarm topic', () => {
  it('is encrypted, lets CloudWatch publish, and emails the address from context', () => {
    h.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.anyValue(),
    });
    h.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: alarmTopicRef,
    });
    h.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
          }),
        ]),
      },
    });
    h.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
            Condition: Match.objectLike({
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            }),
          }),
        ]),
      },
    });
  });

  it('has no email subscription without alarmEmail', () => {
    const quiet = synth();
    expect(
      quiet.template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } }),
    ).toEqual({});
  });
});

describe('dashboard', () => {
  it('shows the pipeline in order, with the publish-to-push latency p50 and p99', () => {
    const [dashboard] = Object.values(h.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties);
    const order = ['1. Publish', '2. Queues', '3. Functions', '4. Push', '5. Email'].map((title) =>
      body.indexOf(title),
    );
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(body).toContain(METRIC.publishToPushLatency);
    expect(body).toMatch(/"stat\\":\\"p50\\"/);
    expect(body).toMatch(/"stat\\":\\"p99\\"/);
    expect(body).toContain('NumberOfMessagesPublished');
  });
});

describe('event sources and durable edges', () => {
  it('bounds both SQS event sources: fan-out from context, email from the SES rate', () => {
    const sources = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).map(
        (r) => r.Properties as Props,
      );
    const withQueues = (t: Template) =>
      sources(t).filter((p) => JSON.stringify(p.EventSourceArn).includes('Queue'));
    expect(
      withQueues(h.template)
        .map((p) => (p.ScalingConfig as Props | undefined)?.MaximumConcurrency)
        .sort(),
    ).toEqual([100, 2]);
    const tuned = synth({ fanOutMaxConcurrency: 40, sesSendRate: 100 });
    expect(
      withQueues(tuned.template)
        .map((p) => (p.ScalingConfig as Props | undefined)?.MaximumConcurrency)
        .sort((a, b) => Number(a) - Number(b)),
    ).toEqual([10, 40]);
    tuned.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HERALD_SES_RATE: '10' }) },
    });
  });

  it('gives both topic subscriptions a redrive policy to their DLQ, which lets the topic send', () => {
    for (const queues of [h.data.fanOut, h.data.email]) {
      h.dataTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        Endpoint: { 'Fn::GetAtt': [logicalId(queues.queue), 'Arn'] },
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(queues.deadLetterQueue), 'Arn'] },
        },
      });
      h.dataTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queues.deadLetterQueue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'sns.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: logicalId(h.data.topic) } } },
            }),
          ]),
        },
      });
    }
  });

  it('retains the DLQs, the expiry failures and the topic when the stack is deleted', () => {
    for (const resource of [
      h.data.fanOut.deadLetterQueue,
      h.data.email.deadLetterQueue,
      h.data.expiryFailures,
      h.data.topic,
    ]) {
      const id = logicalId(resource);
      const found = h.dataTemplate.toJSON().Resources[id];
      expect(found).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('encrypts the topic with a customer-managed key, rotated, whose ARN is an output', () => {
    const keyId = logicalId(h.data.topicKey);
    h.dataTemplate.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    h.dataTemplate.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    h.dataTemplate.hasOutput('TopicKeyArn', { Value: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });
});
