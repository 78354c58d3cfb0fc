/**
 * Counts what Herald asks of DynamoDB: requests by operation and the capacity units they
 * consume (DynamoDB Local reports `ConsumedCapacity` as DynamoDB does when asked to).
 * A middleware on the client, so the adapters under measurement stay untouched.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export interface DynamoCounts {
  /** Requests by operation (`Query`, `PutItem`, …), failed ones included. */
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
}

export function emptyCounts(): DynamoCounts {
  return { requests: {}, readUnits: 0, writeUnits: 0 };
}

/** `PutCommand` (document client) and `PutItemCommand` both count as `PutItem`. */
export function operationOf(commandName: string): string {
  const name = commandName.replace(/Command$/, '');
  const documentNames: Record<string, string> = {
    Put: 'PutItem',
    Get: 'GetItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    BatchWrite: 'BatchWriteItem',
    BatchGet: 'BatchGetItem',
    TransactWrite: 'TransactWriteItems',
    TransactGet: 'TransactGetItems',
  };
  return documentNames[name] ?? name;
}

export function totalRequests(counts: DynamoCounts, operation?: string): number {
  if (operation !== undefined) return counts.requests[operation] ?? 0;
  return Object.values(counts.requests).reduce((a, b) => a + b, 0);
}

export function subtractCounts(after: DynamoCounts, before: DynamoCounts): DynamoCounts {
  const requests: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after.requests)) {
    const delta = count - (before.requests[operation] ?? 0);
    if (delta !== 0) requests[operation] = delta;
  }
  return {
    requests,
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
  };
}

type Capacity = { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;

function unitsOf(capacity: Capacity): number {
  const list = Array.isArray(capacity) ? capacity : capacity ? [capacity] : [];
  return list.reduce((sum, each) => sum + (each.CapacityUnits ?? 0), 0);
}

/**
 * Installs the counter on `client` (a document client shares its client's middleware, so
 * either counts both) and returns the live counts. A conditional write that fails is still charged one write unit by
 * DynamoDB, though no capacity comes back with the error: it is counted as one.
 */
export function countDynamoRequests(client: DynamoDBClient | DynamoDBDocumentClient): {
  counts: DynamoCounts;
  snapshot(): DynamoCounts;
} {
  const counts = emptyCounts();
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const operation = operationOf(String(context.commandName ?? 'Unknown'));
      counts.requests[operation] = (counts.requests[operation] ?? 0) + 1;
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const write = WRITES.has(operation);
      try {
        const result = await next(args);
        const units = unitsOf((result.output as { ConsumedCapacity?: Capacity }).ConsumedCapacity);
        if (write) counts.writeUnits += units;
        else counts.readUnits += units;
        return result;
      } catch (error) {
        if (write && (error as { name?: string }).name === 'ConditionalCheckFailedException') {
          counts.writeUnits += 1;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'heraldBenchRequestCounter', override: true },
  );
  return {
    counts,
    snapshot: () => ({ ...counts, requests: { ...counts.requests } }),
  };
}
