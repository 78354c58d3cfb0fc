import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { restrictPublishers } from '#infra/constructs/topic-publishers';

const ROLE = 'arn:aws:iam::210987654321:role/billing-publisher';

function topicPolicy(principals: string[]): Record<string, unknown>[] {
  const stack = new Stack(new App(), 'Data');
  const topic = new Topic(stack, 'Topic', { enforceSSL: true });
  restrictPublishers(topic, principals);
  const policies = Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy');
  const [policy] = Object.values(policies);
  return policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
}

const bySid = (statements: Record<string, unknown>[], sid: string) =>
  statements.find((statement) => statement.Sid === sid);

let byDefault: Record<string, unknown>[];
let named: Record<string, unknown>[];

// Synthesis can take long on a busy machine: done once, under the hook timeout.
beforeAll(() => {
  byDefault = topicPolicy([]);
  named = topicPolicy(['123456789012', ROLE]);
});

describe('restrictPublishers', () => {
  it('lets only the deploying account publish by default', () => {
    const statements = byDefault;
    expect(bySid(statements, 'NamedPublishers')).toMatchObject({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Principal: {
        AWS: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
          ],
        },
      },
    });
    expect(bySid(statements, 'OnlyNamedPublishers')).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Condition: {
        Bool: { 'aws:PrincipalIsAWSService': 'false' },
        StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } },
      },
    });
  });

  it('names the given accounts and roles, and denies everyone else', () => {
    const statements = named;
    const allow = bySid(statements, 'NamedPublishers');
    expect(JSON.stringify(allow)).toContain(':iam::123456789012:root');
    expect(JSON.stringify(allow)).toContain(ROLE);
    // The deploying account is not implied once principals are named.
    expect(JSON.stringify(allow)).not.toContain('AWS::AccountId');
    expect(bySid(statements, 'OnlyNamedPublishers')?.Condition).toEqual({
      Bool: { 'aws:PrincipalIsAWSService': 'false' },
      StringNotEquals: { 'aws:PrincipalAccount': ['123456789012'] },
      ArnNotLike: { 'aws:PrincipalArn': [ROLE] },
    });
  });

  it('keeps the deny of publishing without TLS', () => {
    const statements = named;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });
});
