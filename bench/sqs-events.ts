/** SQS events as Lambda's event source mapping hands them to the fan-out handler. */
import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeTask } from '#adapters/queue-messages';
import { TOPOLOGY } from '#config/topology';
import type { FanOutTask } from '#core/ports';

const QUEUE_ARN = `arn:aws:sqs:${TOPOLOGY.region}:000000000000:${TOPOLOGY.queues.fanOut.name}`;

function record(body: string, sentAt: number): SQSRecord {
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `bench-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAt),
      SenderId: 'AIDABENCHMARK',
      ApproximateFirstReceiveTimestamp: String(sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: TOPOLOGY.region,
  };
}

/** A publish as SNS delivers it to SQS (raw delivery off): the envelope inside `Message`. */
export function publishRecord(envelope: Record<string, unknown>, publishedAt: number): SQSRecord {
  const body = JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: `arn:aws:sns:${TOPOLOGY.region}:000000000000:${TOPOLOGY.topic.name}`,
    Message: JSON.stringify(envelope),
    Timestamp: new Date(publishedAt).toISOString(),
  });
  return record(body, publishedAt);
}

/** A task the fan-out handed to its own queue. */
export function taskRecord(task: FanOutTask, sentAt: number): SQSRecord {
  return record(encodeTask(task), sentAt);
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
