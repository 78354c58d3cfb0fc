import { Aws } from 'aws-cdk-lib';
import {
  AccountPrincipal,
  AccountRootPrincipal,
  ArnPrincipal,
  Effect,
  type IPrincipal,
  PolicyStatement,
  StarPrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { Topic } from 'aws-cdk-lib/aws-sns';

/**
 * Names who may publish to the topic, in its resource policy: the principals given (account
 * ids, role ARNs), or the deploying account when none are. Anyone else is denied
 * `sns:Publish`, even inside the account with an identity policy allowing it. AWS services
 * (an EventBridge rule targeting the topic) are left to their own statements. Publishing
 * over plain HTTP is denied by the topic's `enforceSSL`.
 */
export function restrictPublishers(topic: Topic, principals: readonly string[]): void {
  const accounts = principals.filter((principal) => !principal.startsWith('arn:'));
  const roles = principals.filter((principal) => principal.startsWith('arn:'));
  const allowed: IPrincipal[] =
    principals.length === 0
      ? [new AccountRootPrincipal()]
      : [
          ...accounts.map((account) => new AccountPrincipal(account)),
          ...roles.map((role) => new ArnPrincipal(role)),
        ];
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'NamedPublishers',
      effect: Effect.ALLOW,
      principals: allowed,
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }),
  );

  // Deny when the caller is none of them: not a listed role and not in a listed account.
  const notListed: Record<string, Record<string, unknown>> = {
    Bool: { 'aws:PrincipalIsAWSService': 'false' },
  };
  if (principals.length === 0) {
    notListed.StringNotEquals = { 'aws:PrincipalAccount': Aws.ACCOUNT_ID };
  } else {
    if (accounts.length > 0) notListed.StringNotEquals = { 'aws:PrincipalAccount': accounts };
    if (roles.length > 0) notListed.ArnNotLike = { 'aws:PrincipalArn': roles };
  }
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyNamedPublishers',
      effect: Effect.DENY,
      principals: [new StarPrincipal()],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: notListed,
    }),
  );
}
