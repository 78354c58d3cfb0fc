/** The events Lambda hands the handlers, shaped as AWS shapes them. */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { WebSocketEvent } from '#handlers/websocket-event';

/** The body SQS holds for an SNS publish (raw message delivery off): the envelope in `Message`. */
export function snsNotificationBody(message: string, timestamp: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: createHash('sha256').update(message).digest('hex').slice(0, 36),
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:herald-notifications',
    Message: message,
    Timestamp: timestamp,
    SignatureVersion: '1',
    Signature: 'c2lnbmF0dXJl',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  });
}

/** One SQS record as the Lambda event source mapping delivers it. */
export function sqsRecord(
  messageId: string,
  body: string,
  options: { receiveCount?: number; sentAt?: number; queue?: string } = {},
): SQSRecord {
  const sentAt = options.sentAt ?? Date.parse('2026-11-23T12:00:00.000Z');
  return {
    messageId,
    receiptHandle: `AQEB${Buffer.from(messageId).toString('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAt),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(sentAt + 5),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${options.queue ?? 'herald-fan-out'}`,
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/**
 * A WebSocket route event as API Gateway sends it: the `$connect` authorizer's context
 * (plus the `principalId` and `integrationLatency` API Gateway adds) on every route.
 */
export function webSocketEvent(options: {
  routeKey: '$connect' | '$disconnect' | '$default';
  connectionId: string;
  authorizer?: Record<string, unknown>;
  body?: string;
  isBase64Encoded?: boolean;
  connectedAt?: number;
}): WebSocketEvent {
  const eventType = (
    { $connect: 'CONNECT', $disconnect: 'DISCONNECT', $default: 'MESSAGE' } as const
  )[options.routeKey];
  const now = Date.parse('2026-11-23T12:00:01.000Z');
  return {
    requestContext: {
      routeKey: options.routeKey,
      messageId: 'msg-1',
      eventType,
      extendedRequestId: 'ext-1',
      requestTime: '23/Nov/2026:12:00:01 +0000',
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: options.connectedAt ?? now - 1000,
      requestTimeEpoch: now,
      requestId: 'req-1',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      connectionId: options.connectionId,
      apiId: 'abc123',
      authorizer: options.authorizer && {
        ...options.authorizer,
        principalId: String(options.authorizer.userId),
        integrationLatency: 12,
      },
    },
    body: options.body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}
