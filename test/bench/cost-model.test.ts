import { describe, expect, it } from 'vitest';
import {
  costPerMillion,
  emailUsage,
  FLOOR_USAGE,
  inAppUsage,
  messageUnits,
  overFloor,
  PRICES,
} from '#bench/cost-model';

describe('the cost model', () => {
  it('prices the floor at $2.75 per million: one publish, one message, two writes', () => {
    const floor = costPerMillion(FLOOR_USAGE);
    expect(floor.perMillion).toBeCloseTo(2.75, 10);
    expect(floor.lines.map((line) => [line.item, line.perMillion])).toEqual([
      ['snsPublish', 0.5],
      ['apiGatewayMessage', 1],
      ['dynamoWriteUnit', 1.25],
    ]);
  });

  it('keeps each price with its unit and source, checked on one date', () => {
    for (const price of Object.values(PRICES)) {
      expect(price.usd).toBeGreaterThanOrEqual(0);
      expect(price.per.length).toBeGreaterThan(0);
      expect(price.source.length).toBeGreaterThan(0);
    }
    expect(PRICES.lambdaGbSecondArm.usd).toBe(0.0000133334);
    expect(PRICES.sesEmail.usd * 1000).toBeCloseTo(0.1, 10);
  });

  it('shares SQS requests and invocations across a batch and charges GB-seconds for the time', () => {
    const usage = inAppUsage({
      dynamoWriteUnits: 3,
      dynamoReadUnits: 1.5,
      frameBytes: 400,
      lambdaMsPerNotification: 10,
      memoryMb: 512,
      batchSize: 10,
    });
    expect(usage).toMatchObject({
      snsPublish: 1,
      sqsRequest: 0.2,
      lambdaRequest: 0.1,
      dynamoWriteUnit: 3,
      dynamoReadUnit: 1.5,
      apiGatewayMessage: 1,
    });
    expect(usage.lambdaGbSecondArm).toBeCloseTo(0.5 * 0.01, 12);
    const cost = costPerMillion(usage);
    // 0.5 + 0.08 + 0.02 + 0.0666670 + 1.875 + 0.1875 + 1
    expect(cost.perMillion).toBeCloseTo(3.729167, 5);
    expect(overFloor(cost)).toBeCloseTo(3.729167 / 2.75 - 1, 5);
  });

  it('meters a frame in 32 KB units', () => {
    expect(messageUnits(10)).toBe(1);
    expect(messageUnits(32 * 1024)).toBe(1);
    expect(messageUnits(32 * 1024 + 1)).toBe(2);
  });

  it('charges an email for SES and no WebSocket message', () => {
    const usage = emailUsage({
      dynamoWriteUnits: 2,
      dynamoReadUnits: 3,
      lambdaMsPerNotification: 10,
      memoryMb: 256,
      batchSize: 10,
    });
    expect(usage.sesEmail).toBe(1);
    expect(usage.apiGatewayMessage).toBeUndefined();
    expect(costPerMillion(usage).perMillion).toBeGreaterThan(100);
  });

  it('leaves out items a notification does not use', () => {
    expect(costPerMillion({ snsPublish: 0, sqsRequest: 1 }).lines).toEqual([
      { item: 'sqsRequest', quantity: 1, perMillion: expect.closeTo(0.4, 10) },
    ]);
  });
});
