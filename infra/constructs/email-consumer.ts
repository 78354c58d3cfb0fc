import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { HeraldFunction } from './herald-function';
import { type HeraldSettings, senderAddress } from './herald-settings';
import type { HeraldTable } from './herald-table';
import type { NotificationQueue } from './notification-queue';

export interface EmailConsumerProps {
  connections: HeraldTable;
  notifications: HeraldTable;
  queue: NotificationQueue;
  settings: HeraldSettings;
  /** The SES configuration set every send names (bounce and complaint reporting). */
  configurationSetName?: string;
}

/** Drains the email queue (envelopes whose `channels` include "email") and sends through SES. */
export class EmailConsumer extends Construct {
  readonly function: HeraldFunction;

  constructor(scope: Construct, id: string, props: EmailConsumerProps) {
    super(scope, id);
    const { queue, deadLetterQueue } = props.queue;
    const { emailFrom } = props.settings;
    const topology = TOPOLOGY.queues.email;

    const fn = new HeraldFunction(this, 'Function', {
      handlerName: 'email',
      description: 'Emails notifications to recipients who want email',
      timeout: Duration.seconds(TOPOLOGY.consumerTimeoutSeconds),
      logLevel: props.settings.logLevel,
      environment: {
        // Its own queue too: a big audience hands its further slices on as tasks there.
        [ENV.emailQueueUrl]: queue.queueUrl,
        [ENV.emailDeadLetterQueueUrl]: deadLetterQueue.queueUrl,
      },
    });
    fn.bindTable(props.connections, 'read');
    // Addresses and preferences are read from the notifications table; the mail log that
    // keeps a retried batch from mailing twice is written there.
    fn.bindTable(props.notifications, 'readWrite');
    queue.grants.sendMessages(fn);
    deadLetterQueue.grants.sendMessages(fn);

    if (props.configurationSetName) {
      fn.addEnvironment(ENV.sesConfigurationSet, props.configurationSetName);
    }
    if (emailFrom) {
      fn.addEnvironment(ENV.emailFrom, emailFrom);
      const stack = Stack.of(this);
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          // SES authorizes a send against the sending identity and any configuration set.
          resources: [
            stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' }),
            stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: '*' }),
          ],
          conditions: { StringEquals: { 'ses:FromAddress': senderAddress(emailFrom) } },
        }),
      );
    } else {
      Annotations.of(fn).addWarningV2(
        'herald:email-from-not-configured',
        'No sender configured: the email function cannot send until context emailFrom ' +
          'names a verified SES identity (cdk deploy -c emailFrom=noreply@example.com).',
      );
    }

    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: topology.batchSize,
        maxBatchingWindow: Duration.seconds(topology.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    this.function = fn;
  }
}
