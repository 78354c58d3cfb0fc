import { Duration } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INBOX_INDEXES } from '#config/inbox-indexes';
import { TTL_REMOVAL_FILTER, TTL_STREAM } from '#config/ttl-removal';
import { bindConnections, bindTable } from './function-grants';
import { HeraldFunction } from './herald-function';
import type { HeraldSettings } from './herald-settings';
import type { HeraldTable } from './herald-table';

export interface InboxExpiryConsumerProps {
  connections: HeraldTable;
  /** Must have a stream (`oldImageStream`). */
  notifications: HeraldTable;
  stage: WebSocketStage;
  /** Where batches that kept failing are recorded. */
  failures: IQueue;
  settings: HeraldSettings;
}

/**
 * Reads the notifications table's stream, filtered by Lambda to DynamoDB's TTL deletions,
 * and tells each user who lost an unread notification their new count on every live socket.
 * Filtered records are never billed as invocations; Herald's own deletes never reach it.
 */
export class InboxExpiryConsumer extends Construct {
  readonly function: HeraldFunction;

  constructor(scope: Construct, id: string, props: InboxExpiryConsumerProps) {
    super(scope, id);
    const fn = new HeraldFunction(this, 'Function', {
      handlerName: 'inbox-expiry',
      description: 'Announces unread counts after DynamoDB TTL removes unread notifications',
      logLevel: props.settings.logLevel,
    });
    // The counts are Queries of the unread and unseen indexes; nothing here reads or writes an item.
    bindTable(fn, props.notifications, {
      queryIndexes: [INBOX_INDEXES.unread.name, INBOX_INDEXES.unseen.name],
    });
    // Lists the user's connections; prunes one API Gateway reports gone (push-and-prune
    // reads its entry, then deletes its entries in one batch).
    bindTable(fn, props.connections, { items: ['Query', 'GetItem', 'BatchWriteItem'] });
    bindConnections(fn, props.stage, ['POST', 'DELETE']);
    // Grants the stream reads (and sending to the failure queue) itself.
    fn.addEventSource(
      new DynamoEventSource(props.notifications, {
        startingPosition: StartingPosition.LATEST,
        batchSize: TTL_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(1),
        filters: [FilterCriteria.filter(TTL_REMOVAL_FILTER)],
        bisectBatchOnError: true,
        retryAttempts: TTL_STREAM.retryAttempts,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(props.failures),
      }),
    );
    this.function = fn;
  }
}
