import { Duration } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ENV } from '#config/env-names';
import { INBOX_INDEXES } from '#config/inbox-indexes';
import { TOPOLOGY } from '#config/topology';
import { acknowledgeNoMappingDestination, bindConnections, bindTable } from './function-grants';
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
        [ENV.fanOutQueueUrl]: queue.queueUrl,
        [ENV.fanOutDeadLetterQueueUrl]: deadLetterQueue.queueUrl,
      },
    });
    // Lists a topic's or user's connections; prunes a gone one (read its entry, batch-delete).
    bindTable(fn, props.connections, { items: ['Query', 'GetItem', 'BatchWriteItem'] });
    // Stores each recipient's copy and the event ledger (PutItem), reads preferences
    // (GetItem, BatchGetItem) and the ledger, keeps collapse slots (UpdateItem); applies
    // envelopes' `state` (a transaction of two PutItems after GetItems) and counts the
    // unread for the `state` frame (Query on the unread index).
    bindTable(fn, props.notifications, {
      items: ['PutItem', 'GetItem', 'BatchGetItem', 'UpdateItem'],
      queryIndexes: [INBOX_INDEXES.unread.name, INBOX_INDEXES.unseen.name],
    });
    bindConnections(fn, props.stage, ['POST', 'DELETE']);
    queue.grants.sendMessages(fn);
    deadLetterQueue.grants.sendMessages(fn);
    acknowledgeNoMappingDestination(fn);
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
