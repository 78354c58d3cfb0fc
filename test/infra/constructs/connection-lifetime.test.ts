import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#config/env-names';
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
const roleId = (fn: IFunction): string => {
  if (!fn.role) throw new Error('function without role');
  return logicalId(fn.role);
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsOf(fn: IFunction): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId(fn) }]) },
  });
  return Object.values(policies).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

beforeAll(() => {
  const app = new App({
    context: {
      ...CDK_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      jwksUrl: 'https://example.com/.well-known/jwks.json',
      jwtAudience: 'herald',
    },
  });
  const settings = readSettings(app.node);
  const data = new StatefulStack(app, 'HeraldData');
  code = new StatelessStack(app, 'HeraldApp', { data, settings });
  template = Template.fromStack(code);
});

describe('connection lifetime', () => {
  it('runs the sweep every minute from an EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(code.lifetime.sweepFunction), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(code.lifetime.sweepFunction), 'Arn'] },
    });
  });

  it.each([
    ['sweep', () => code.lifetime.sweepFunction, 'connection-sweep'],
    ['cut-off', () => code.lifetime.cutOffFunction, 'cut-off'],
  ])('the %s function may DELETE on its stage’s @connections, never POST', (_name, fn, service) => {
    const manage = statementsOf(fn()).filter((s) =>
      [s.Action].flat().some((action) => action.startsWith('execute-api')),
    );
    expect(manage).toHaveLength(1);
    expect(manage[0]?.Action).toBe('execute-api:ManageConnections');
    const resource = JSON.stringify(manage[0]?.Resource);
    expect(resource).toContain('/DELETE/@connections/*');
    expect(resource).not.toContain('POST');
    expect(resource).toContain(logicalId(code.gateway.api));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: `herald-${service}`,
          [ENV.callbackUrl]: Match.anyValue(),
          [ENV.connectionsTable]: Match.anyValue(),
        }),
      },
    });
  });

  it('names the cut-off function in an output, for the publisher side', () => {
    template.hasOutput('CutOffFunctionName', {
      Value: { Ref: logicalId(code.lifetime.cutOffFunction) },
    });
  });

  it('lets the message function verify refresh tokens as the authorizer does', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'herald-message',
          [ENV.jwksUrl]: 'https://example.com/.well-known/jwks.json',
          [ENV.jwtAudience]: 'herald',
        }),
      },
    });
  });
});
