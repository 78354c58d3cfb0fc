import { Duration } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';
import type { NotificationQueue } from './notification-queue';

export interface FanOutConsumerProps {
  connections: HeraldTable;
  notifications: HeraldTable;
  queue: NotificationQueue;
  stage: WebSocketStage;
  settings: HeraldSettings;
}

/**
 * Drains the fan-out queue: stores each notification, pushes it to every live connection
 * through this stage's management API, prunes the gone ones, and hands big audiences'
 * next pages back to its own queue.
 */
export class FanOutConsumer extends Construct {
  readonly function: HeraldFunction;

  constructor(scope: Construct, id: string, props: FanOutConsumerProps) {
    super(scope, id);
    const { queue, deadLetterQueue } = props.queue;
    const topology = TOPOLOGY.queues.fanOut;

    const fn = new HeraldFunction(this, 'Function', {
      handlerName: 'fan-out',
      description: 'Stores notifications and pushes them to live WebSocket connections',
      // Posts run concurrently over keep-alive sockets; more memory buys more CPU for them.
      memorySize: 512,
      timeout: Duration.seconds(TOPOLOGY.consumerTimeoutSeconds),
      logLevel: props.settings.logLevel,
      environment: {
        // The management endpoint comes from configuration, never from the request's domain.
        [ENV.callbackUrl]: props.stage.callbackUrl,
        [ENV.fanOutQueueUrl]: queue.queueUrl,
        [ENV.fanOutDeadLetterQueueUrl]: deadLetterQueue.queueUrl,
      },
    });
    fn.bindTable(props.connections, 'readWrite');
    fn.bindTable(props.notifications, 'readWrite');
    props.stage.grantManagementApiAccess(fn);
    queue.grants.sendMessages(fn);
    deadLetterQueue.grants.sendMessages(fn);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: topology.batchSize,
        maxBatchingWindow: Duration.seconds(topology.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        // A burst must not take the region's concurrency from `$connect` and the API.
        maxConcurrency: props.settings.fanOutMaxConcurrency,
      }),
    );
    this.function = fn;
  }
}
