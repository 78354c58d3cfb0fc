import { Validations } from 'aws-cdk-lib';
import { EventBus, type IEventBus, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ingressRules, type SourceTenants } from '#config/eventbridge-ingress';
import { deadLetterQueue } from './dead-letter-queue';

export interface EventBridgeIngressProps {
  /** The notifications topic: the rules' target, so envelopes meet the SNS path's pipeline. */
  topic: ITopic;
  /** Context `eventBusName`; the account's default bus when absent. */
  busName?: string;
  /** Context `eventSourceTenants`: a rule per source, taking only its tenant's envelopes. */
  sourceTenants: SourceTenants;
}

/**
 * EventBridge as an ingress beside SNS: the rules of `#config/eventbridge-ingress` (the
 * same the local stack matches with) on the configured bus, each passing the event's
 * `detail` (the envelope) to the notifications topic. From there an envelope meets the same
 * validation, consumers and dead-letter queues as one published to the topic. The rules
 * publish through one role of their own, so the topic's policy stays as it is.
 */
export class EventBridgeIngress extends Construct {
  readonly bus: IEventBus;
  readonly rules: Rule[];
  /** What the rules publish as: `sns:Publish` on the topic (and its key, if it has one). */
  readonly role: Role;
  /** Events the rules could not deliver to the topic. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EventBridgeIngressProps) {
    super(scope, id);
    this.bus = EventBus.fromEventBusName(this, 'Bus', props.busName ?? 'default');
    this.role = new Role(this, 'PublishRole', {
      assumedBy: new ServicePrincipal('events.amazonaws.com'),
      description: 'EventBridge ingress rules publishing Herald envelopes to the topic',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'kms:GenerateDataKey* is how AWS names the data-key actions SNS needs to publish to an encrypted topic; it is scoped to the topic key alone.',
    });
    // What EventBridge cannot hand to the topic after its retries (24 h) is kept here, not
    // dropped: the event itself, with the error in its message attributes.
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the ingress rules');
    const target = new SnsTopic(props.topic, {
      message: RuleTargetInput.fromEventPath('$.detail'),
      role: this.role,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.rules = ingressRules(props.sourceTenants).map(
      (rule) =>
        new Rule(this, rule.id, {
          eventBus: this.bus,
          description: rule.description,
          // The shared pattern's shape is EventBridge's JSON; CDK's type knows no prefix rule.
          eventPattern: rule.pattern as Record<string, never>,
          targets: [target],
        }),
    );
  }
}
