import { CfnOutput, Duration } from 'aws-cdk-lib';
import {
  ConfigurationSet,
  ConfigurationSetEventDestination,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import { bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';

export interface SesReputationProps {
  notifications: HeraldTable;
  settings: HeraldSettings;
}

/**
 * SES that keeps its reputation: a configuration set every send names, whose event
 * destination publishes bounces and complaints to a topic; the `ses-feedback` function puts
 * each hard-bounced or complaining address on Herald's suppression list (in the
 * notifications table), which the email consumer checks before each send. SES's own
 * account-level suppression list is on for the set too, so a suppressed address is safe even
 * when a send slips through. With context `emailDomain`, the domain is an SES identity with
 * Easy DKIM, its CNAME records in the outputs.
 */
export class SesReputation extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly feedbackTopic: Topic;
  readonly function: HeraldFunction;
  /** Bounce and complaint events the feedback function could not be handed. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SesReputationProps) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      reputationMetrics: true,
    });
    this.feedbackTopic = new Topic(this, 'FeedbackTopic', { enforceSSL: true });
    new ConfigurationSetEventDestination(this, 'BouncesAndComplaints', {
      configurationSet: this.configurationSet,
      destination: EventDestination.snsTopic(this.feedbackTopic),
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });

    const fn = new HeraldFunction(this, 'Function', {
      handlerName: 'ses-feedback',
      description: 'Suppresses addresses that hard-bounced or complained',
      timeout: Duration.seconds(10),
      logLevel: props.settings.logLevel,
    });
    // One PutItem per suppressed address, nothing else.
    bindTable(fn, props.notifications, { items: ['PutItem'] });
    // Feedback SNS could not hand to the function (after its retries) waits here, not lost.
    this.deadLetterQueue = deadLetterQueue(
      this,
      'FeedbackDeadLetters',
      'the feedback subscription',
    );
    this.feedbackTopic.addSubscription(
      new LambdaSubscription(fn, { deadLetterQueue: this.deadLetterQueue }),
    );
    this.function = fn;

    const domain = props.settings.emailDomain;
    if (domain) {
      const identity = new EmailIdentity(this, 'Domain', {
        identity: Identity.domain(domain),
        configurationSet: this.configurationSet,
      });
      identity.dkimRecords.forEach((record, index) => {
        new CfnOutput(this, `DkimRecord${index + 1}`, {
          value: `${record.name} CNAME ${record.value}`,
          description: `DKIM record ${index + 1} of 3 to add to ${domain}'s DNS`,
        });
      });
    }
  }
}
