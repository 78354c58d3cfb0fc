import { Duration, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { bindConnections, bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';

export interface ConnectionLifetimeProps {
  connections: HeraldTable;
  stage: WebSocketStage;
  settings: HeraldSettings;
}

/**
 * A connection ends with its token: the `connection-sweep` function, run every minute by
 * an EventBridge schedule, closes those whose token expired; the `cut-off` function, which
 * the publisher side invokes, closes every connection of one user. Both only close: each
 * may DELETE on this stage's `@connections`, never POST.
 */
export class ConnectionLifetime extends Construct {
  readonly sweepFunction: HeraldFunction;
  readonly cutOffFunction: HeraldFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: ConnectionLifetimeProps) {
    super(scope, id);
    const { connections, stage, settings } = props;

    this.sweepFunction = new HeraldFunction(this, 'Sweep', {
      handlerName: 'connection-sweep',
      description: 'Closes the WebSocket connections whose token has expired',
      logLevel: settings.logLevel,
      // Below the schedule's minute, so runs do not pile up behind a slow one.
      timeout: Duration.seconds(50),
    });
    this.cutOffFunction = new HeraldFunction(this, 'CutOff', {
      handlerName: 'cut-off',
      description: 'Closes every WebSocket connection of one user',
      logLevel: settings.logLevel,
      timeout: Duration.seconds(30),
    });
    for (const fn of [this.sweepFunction, this.cutOffFunction]) {
      // Query the expiry listing (sweep) or the user's connections (cut-off), GetItem each,
      // and remove its items in batches.
      bindTable(fn, connections, { items: ['Query', 'GetItem', 'BatchWriteItem'] });
      bindConnections(fn, stage, ['DELETE']);
    }

    this.schedule = new Rule(this, 'EveryMinute', {
      description: 'Runs the connection sweep',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.sweepFunction, { retryAttempts: 0 })],
    });
    Validations.of(this.schedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A missed sweep loses nothing: the next run a minute later looks back ten minutes, and pushes skip expired connections meanwhile.',
    });
  }
}
