/**
 * DynamoDB throttling on demand: a proxy in front of DynamoDB Local that answers a share of the
 * data-plane requests with AWS's own 400 ProvisionedThroughputExceededException, so the SDK's
 * retries (and, past them, Herald's own handling) run as they do against a throttled table.
 * Control-plane calls (CreateTable, DescribeTable…) always pass.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { faultDice } from './fault-dice';
import type { FaultPlan } from './fault-plan';
import { type FaultAnswer, type FaultProxy, startFaultProxy } from './fault-proxy';
import { FaultTally } from './fault-tally';

/** Operations that read or write items: the ones a table's throughput limits. */
export const DATA_PLANE_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** The operation a DynamoDB request names in `X-Amz-Target` (`DynamoDB_20120810.PutItem`). */
export function dynamoOperation(request: IncomingMessage): string | undefined {
  const target = request.headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  return target.split('.')[1];
}

/** AWS's answer to a request over the table's throughput, byte for byte in its shape. */
export function throughputExceeded(): FaultAnswer {
  return {
    status: 400,
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'x-amzn-RequestId': randomUUID(),
    },
    body: JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message:
        'The level of configured provisioned throughput for the table was exceeded. ' +
        'Consider increasing your provisioning level with the UpdateTable API.',
    }),
  };
}

/** Starts the throttling proxy in front of `target` (DynamoDB Local's endpoint). */
export function startDynamoDbFaults(
  target: string,
  plan: Pick<FaultPlan, 'dynamodb' | 'seed'>,
  tally = new FaultTally(),
): Promise<FaultProxy> {
  const dice = faultDice(plan.seed, 'dynamodb');
  const rate = plan.dynamodb?.throttleRate;
  return startFaultProxy({
    target,
    fault(request) {
      const operation = dynamoOperation(request);
      if (operation === undefined || !DATA_PLANE_OPERATIONS.has(operation)) return undefined;
      if (!dice.roll(rate)) return undefined;
      tally.count('dynamodb.throttle');
      return throughputExceeded();
    },
  });
}
