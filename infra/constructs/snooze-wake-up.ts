import { Duration, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INBOX_INDEXES } from '#config/inbox-indexes';
import { SNOOZE_LISTING_PREFIX } from '#config/snooze-listing';
import { bindConnections, bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';

export interface SnoozeWakeUpProps {
  connections: HeraldTable;
  notifications: HeraldTable;
  stage: WebSocketStage;
  settings: HeraldSettings;
}

/**
 * Brings snoozed notifications back: the `snooze-sweep` function, run every minute by an
 * EventBridge schedule, reads the due-listing of each minute since its watermark (README
 * "Snooze"), wakes each notification still snoozed until then, and pushes it again with the
 * user's counts. One schedule for all snoozes: no schedule per item to create or clean up.
 */
export class SnoozeWakeUp extends Construct {
  readonly function: HeraldFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: SnoozeWakeUpProps) {
    super(scope, id);
    const { connections, notifications, stage, settings } = props;

    this.function = new HeraldFunction(this, 'Function', {
      handlerName: 'snooze-sweep',
      description: 'Brings snoozed notifications back when their snooze ends',
      logLevel: settings.logLevel,
      // Below the schedule's minute, so runs do not pile up behind a slow one.
      timeout: Duration.seconds(50),
    });
    // Query a minute of the listing; Get the watermark and a row; Update the row (the wake)
    // and the watermark. The counts after a wake are Queries of the unread and unseen indexes.
    bindTable(this.function, notifications, {
      items: ['Query', 'GetItem', 'UpdateItem'],
      queryIndexes: [INBOX_INDEXES.unread.name, INBOX_INDEXES.unseen.name],
    });
    // Put an entry deferred to the next minute, Delete one done with: listing items only
    // (partition `Z#…`), never a notification.
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [notifications.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SNOOZE_LISTING_PREFIX}*`] },
        },
      }),
    );
    // Lists the user's connections; prunes one API Gateway reports gone (push-and-prune
    // reads its entry, then deletes its entries in one batch).
    bindTable(this.function, connections, { items: ['Query', 'GetItem', 'BatchWriteItem'] });
    bindConnections(this.function, stage, ['POST', 'DELETE']);

    this.schedule = new Rule(this, 'EveryMinute', {
      description: 'Runs the snooze wake-up',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
    Validations.of(this.schedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A missed run loses nothing: the next one reads every minute since the watermark, however many.',
    });
  }
}
