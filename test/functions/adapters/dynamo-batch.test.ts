import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type BatchGetOptions, batchGetAll } from '#adapters/dynamo-batch';
import { RetryableError } from '#core/errors';
import { mockedDocumentClient } from '#test/support/dynamo-mock';

const dynamo = mockClient(DynamoDBDocumentClient);
const doc = mockedDocumentClient();
let waits: number[];
let options: BatchGetOptions;

beforeEach(() => {
  dynamo.reset();
  waits = [];
  options = {
    projection: 'pk, sk',
    consistentRead: true,
    attempts: 3,
    // Half of each ceiling: the first retry waits 5 of its 10 ms.
    backoff: {
      policy: { baseDelayMs: 10, maxDelayMs: 1_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    },
    what: 'test reads',
  };
});

const key = (i: number) => ({ pk: `P#${i}`, sk: 'S' });

describe('batchGetAll', () => {
  it('asks nothing for no keys', async () => {
    expect(await batchGetAll(doc, 't', [], options)).toEqual([]);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it('reads 100 keys to a request and returns every item found', async () => {
    dynamo.on(BatchGetCommand).callsFake((input) => ({
      Responses: { t: input.RequestItems.t.Keys },
    }));
    const keys = Array.from({ length: 250 }, (_, i) => key(i));

    const items = await batchGetAll(doc, 't', keys, options);

    const sizes = dynamo
      .commandCalls(BatchGetCommand)
      .map((call) => call.args[0].input.RequestItems?.t?.Keys?.length);
    expect(sizes).toEqual([100, 100, 50]);
    expect(items).toHaveLength(250);
    expect(dynamo.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.t).toMatchObject({
      ConsistentRead: true,
      ProjectionExpression: 'pk, sk',
    });
  });

  it('asks again, after a backoff, for the keys left unprocessed and only those', async () => {
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { t: [key(1)] }, UnprocessedKeys: { t: { Keys: [key(2)] } } })
      .resolves({ Responses: { t: [key(2)] } });

    const items = await batchGetAll(doc, 't', [key(1), key(2)], options);

    expect(items).toEqual([key(1), key(2)]);
    expect(dynamo.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.t?.Keys).toEqual([
      key(2),
    ]);
    expect(waits).toEqual([5]);
  });

  it('gives up with a retryable error after its attempts', async () => {
    dynamo.on(BatchGetCommand).resolves({ UnprocessedKeys: { t: { Keys: [key(1)] } } });

    await expect(batchGetAll(doc, 't', [key(1)], options)).rejects.toThrow(
      new RetryableError('test reads keep being throttled'),
    );
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(3);
    // Retries 1 and 2 of the one backoff: their ceilings double.
    expect(waits).toEqual([5, 10]);
  });
});
