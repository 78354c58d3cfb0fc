/**
 * What a million notifications cost in AWS, from the requests the benchmark counted.
 * Prices: us-east-1, in ONE table, with the date they were checked and where.
 */

export interface Price {
  usd: number;
  per: string;
  source: string;
}

/**
 * us-east-1 list prices, checked on `PRICES_CHECKED`. AWS's own pricing pages render their
 * rate tables from tokens, so where the number itself was not readable there, the source
 * names the page that states it and the AWS page that defines the unit.
 */
export const PRICES_CHECKED = '2026-11-23';
export const PRICES = {
  apiGatewayMessage: {
    usd: 1.0 / 1e6,
    per: 'WebSocket message, sent or received, metered in 32 KB units (first billion a month)',
    source:
      'aws.amazon.com/api-gateway/pricing (32 KB metering, messages both ways); rate as listed there for the first 1B messages',
  },
  apiGatewayConnectionMinute: {
    usd: 0.25 / 1e6,
    per: 'WebSocket connection minute',
    source:
      'aws.amazon.com/api-gateway/pricing, quoted in repost.aws question QU7IqgooGeQmqudOsmzTw5YQ',
  },
  lambdaGbSecondArm: {
    usd: 0.0000133334,
    per: 'GB-second, arm64',
    source:
      'aws.amazon.com/lambda/pricing (arm64 rate 1333340e-11, as in artillery lib/platform/aws-lambda/prices.js)',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'invocation',
    source: 'aws.amazon.com/lambda/pricing ($0.20 per 1M requests)',
  },
  dynamoWriteUnit: {
    usd: 0.625 / 1e6,
    per: 'on-demand write request unit (1 KB)',
    source:
      'aws.amazon.com/dynamodb/pricing/on-demand (units); rate after the Nov 2024 cut, airbyte.com DynamoDB pricing (Jul 2025)',
  },
  dynamoReadUnit: {
    usd: 0.125 / 1e6,
    per: 'on-demand read request unit (4 KB strong, 2 eventual reads)',
    source: 'as dynamoWriteUnit',
  },
  snsPublish: {
    usd: 0.5 / 1e6,
    per: 'standard topic publish (64 KB chunk)',
    source: 'aws.amazon.com/sns/pricing; factualminds.com SNS pricing (Jun 2026)',
  },
  snsToSqsDelivery: {
    usd: 0,
    per: 'SNS delivery to an SQS queue',
    source: 'aws.amazon.com/sns/pricing (deliveries to SQS are free)',
  },
  sqsRequest: {
    usd: 0.4 / 1e6,
    per: 'standard queue request (64 KB chunk)',
    source: 'aws.amazon.com/sqs/pricing; cloudburn.io SQS pricing (Mar 2026)',
  },
  sesEmail: {
    usd: 0.1 / 1000,
    per: 'email sent',
    source: 'aws.amazon.com/ses/pricing ($0.10 per 1,000)',
  },
} as const satisfies Record<string, Price>;

export type PriceItem = keyof typeof PRICES;

/** What one notification uses, per item; fractions where requests are shared by a batch. */
export type Usage = Partial<Record<PriceItem, number>>;

export interface CostLine {
  item: PriceItem;
  /** Units per notification. */
  quantity: number;
  /** Dollars per million notifications. */
  perMillion: number;
}

export interface Cost {
  lines: CostLine[];
  /** Dollars per million notifications. */
  perMillion: number;
}

/** Dollars per million notifications that each use `usage`. */
export function costPerMillion(usage: Usage): Cost {
  const lines: CostLine[] = [];
  for (const [item, quantity] of Object.entries(usage) as Array<[PriceItem, number]>) {
    if (!quantity) continue;
    lines.push({ item, quantity, perMillion: quantity * PRICES[item].usd * 1e6 });
  }
  return { lines, perMillion: lines.reduce((sum, line) => sum + line.perMillion, 0) };
}

/**
 * The floor the design cannot avoid for one in-app notification (one publish, one
 * recipient, one connection, kept in the inbox): the publish, the push, and two write
 * units (the notification, and the unread count's entry for it, which DynamoDB writes in
 * the same request when the count is a sparse index, as Herald's is).
 */
export const FLOOR_USAGE: Usage = { snsPublish: 1, apiGatewayMessage: 1, dynamoWriteUnit: 2 };

/** API Gateway meters messages in 32 KB units. */
export function messageUnits(frameBytes: number): number {
  return Math.max(1, Math.ceil(frameBytes / (32 * 1024)));
}

export interface MeasuredNotification {
  /** DynamoDB capacity per notification, as counted. */
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  /** Frame size pushed to the connection. */
  frameBytes: number;
  /** Handler time per notification when records come in batches of `batchSize`, ms. */
  lambdaMsPerNotification: number;
  /** The function's memory, MB. */
  memoryMb: number;
  /** Records per SQS batch (per invocation). */
  batchSize: number;
}

/**
 * Usage of one in-app notification as Herald handles it: one publish, its SQS receive and
 * delete shared by the batch (SNS's delivery to SQS is free), one invocation shared by
 * the batch, the handler's time, the counted DynamoDB units, and the push.
 */
export function inAppUsage(measured: MeasuredNotification): Usage {
  const perBatch = 1 / measured.batchSize;
  return {
    snsPublish: 1,
    sqsRequest: 2 * perBatch,
    lambdaRequest: perBatch,
    lambdaGbSecondArm: (measured.memoryMb / 1024) * (measured.lambdaMsPerNotification / 1000),
    dynamoWriteUnit: measured.dynamoWriteUnits,
    dynamoReadUnit: measured.dynamoReadUnits,
    apiGatewayMessage: messageUnits(measured.frameBytes),
  };
}

/** Usage of one email: as in-app, minus the push, plus SES. */
export function emailUsage(measured: Omit<MeasuredNotification, 'frameBytes'>): Usage {
  const { apiGatewayMessage: _push, ...rest } = inAppUsage({ ...measured, frameBytes: 0 });
  return { ...rest, sesEmail: 1 };
}

/** Relative excess over the floor: 0.15 means 15% above it. */
export function overFloor(cost: Cost, floor: Cost = costPerMillion(FLOOR_USAGE)): number {
  return cost.perMillion / floor.perMillion - 1;
}
