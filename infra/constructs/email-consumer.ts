import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { acknowledgeNoMappingDestination, acknowledgeOnRole, bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import { emailConcurrency, type HeraldSettings, senderAddress } from './herald-settings';
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
    // Consumers at once times each one's pace stays within the account's SES rate.
    const { maxConcurrency, sendRatePerConsumer } = emailConcurrency(props.settings.sesSendRate);

    const fn = new HeraldFunction(this, 'Function', {
      handlerName: 'email',
      description: 'Emails notifications to recipients who want email',
      timeout: Duration.seconds(TOPOLOGY.consumerTimeoutSeconds),
      logLevel: props.settings.logLevel,
      environment: {
        // Its own queue too: a big audience hands its further slices on as tasks there.
        [ENV.emailQueueUrl]: queue.queueUrl,
        [ENV.emailDeadLetterQueueUrl]: deadLetterQueue.queueUrl,
        [ENV.sesRate]: String(sendRatePerConsumer),
      },
    });
    // Whether the recipient is online: a Query of their connections, nothing else.
    bindTable(fn, props.connections, { items: ['Query'] });
    // Addresses, preferences and the event ledger are read (GetItem); the mail log that keeps
    // a retried batch from mailing twice is claimed (PutItem), marked sent (UpdateItem) or
    // released (DeleteItem); the ledger records an event once (PutItem). No Query, no batch.
    bindTable(fn, props.notifications, {
      items: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    });
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
      for (const resource of ['identity/*', 'configuration-set/*']) {
        acknowledgeOnRole(
          fn,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:${resource}]`,
          'SES authorizes against the verified identity (the address, its domain or a parent ' +
            'domain) and any default configuration set, which the sender may choose; the ' +
            'ses:FromAddress condition pins the From address to emailFrom',
        );
      }
    } else {
      Annotations.of(fn).addWarningV2(
        'herald:email-from-not-configured',
        'No sender configured: the email function cannot send until context emailFrom ' +
          'names a verified SES identity (cdk deploy -c emailFrom=noreply@example.com).',
      );
    }

    acknowledgeNoMappingDestination(fn);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: topology.batchSize,
        maxBatchingWindow: Duration.seconds(topology.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    this.function = fn;
  }
}
