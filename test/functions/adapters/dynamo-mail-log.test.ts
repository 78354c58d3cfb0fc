import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoMailLog } from '#adapters/dynamo-mail-log';
import { conditionFailed, mockedDocumentClient, throttled } from '#test/support/dynamo-mock';

const docMock = mockClient(DynamoDBDocumentClient);
const log = new DynamoMailLog(mockedDocumentClient(), 'herald-notifications');
const LEASE = { claimant: 'c1', leaseUntil: 2_000, now: 1_000, expiresAt: 86_401 };

beforeEach(() => docMock.reset());
afterAll(() => docMock.restore());

describe('DynamoMailLog', () => {
  it('claims with one conditional Put that also returns the record it was refused for', async () => {
    docMock.on(PutCommand).resolves({});
    expect(await log.claim('acme', 'alice', 'N1', LEASE)).toBe('claimed');
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'herald-notifications',
      Item: {
        pk: 'U#acme#alice',
        sk: 'MAIL#N1',
        claimant: 'c1',
        leaseUntil: 2_000,
        expiresAt: 86_401,
      },
      ConditionExpression:
        'attribute_not_exists(pk) OR (attribute_not_exists(sentAt) AND leaseUntil <= :now)',
      ExpressionAttributeValues: { ':now': 1_000 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('reads a record from before claims (only `sentAt`) as sent', async () => {
    docMock.on(PutCommand).rejects(conditionFailed(marshall({ pk: 'p', sk: 's', sentAt: 5 })));
    expect(await log.claim('acme', 'alice', 'N1', LEASE)).toBe('sent');
  });

  it('reads a live claim of another sender as held', async () => {
    const held = marshall({ pk: 'p', sk: 's', claimant: 'c0', leaseUntil: 1_500 });
    docMock.on(PutCommand).rejects(conditionFailed(held));
    expect(await log.claim('acme', 'alice', 'N1', LEASE)).toBe('held');
  });

  it('lets any other failure through, so the record is retried', async () => {
    docMock.on(PutCommand).rejects(throttled());
    await expect(log.claim('acme', 'alice', 'N1', LEASE)).rejects.toThrow('slow down');
  });
});
