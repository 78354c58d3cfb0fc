import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TOPOLOGY } from '#config/topology';

/**
 * A queue where what could not be delivered waits for an operator: encrypted, TLS only, kept
 * as long as SQS allows (`TOPOLOGY.deadLetterRetentionDays`) and retained when the stack is
 * deleted, since deleting it would delete what nobody has looked at yet. It has no
 * dead-letter queue of its own, which cdk-nag is told, with `whose` saying whose queue it is.
 */
export function deadLetterQueue(scope: Construct, id: string, whose: string): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(TOPOLOGY.deadLetterRetentionDays),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
    Validations.of(queue).acknowledge({
      id: rule,
      reason: `It is the dead-letter queue of ${whose}; a dead-letter queue has none of its own`,
    });
  }
  return queue;
}
