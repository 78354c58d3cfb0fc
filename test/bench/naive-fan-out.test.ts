import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { audienceMatcher, naiveFanOut, scanAudience } from '#bench/naive-fan-out';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(DynamoDBDocumentClient);

afterEach(() => dynamo.reset());

const connection = (id: string, userId: string, topics: string[] = []) => ({
  connectionId: id,
  userId,
  topics,
});

/** Two Scan pages, as DynamoDB returns a table past its first page. */
function twoPages() {
  dynamo
    .on(ScanCommand, { ExclusiveStartKey: undefined })
    .resolves({
      Items: [connection('a1', 'alice', ['news']), connection('b1', 'bob')],
      LastEvaluatedKey: { connectionId: 'b1' },
    })
    .on(ScanCommand, { ExclusiveStartKey: { connectionId: 'b1' } })
    .resolves({ Items: [connection('a2', 'alice'), connection('c1', 'carol', ['news'])] });
}

describe('the naive fan-out baseline', () => {
  it('scans the whole table, page after page, and keeps the audience', async () => {
    twoPages();
    const users = await scanAudience({ doc, tableName: 'naive' }, { users: ['alice'] });
    expect(users.scanned).toBe(4);
    expect(users.matches.map((c) => c.connectionId)).toEqual(['a1', 'a2']);
    expect(dynamo.commandCalls(ScanCommand)).toHaveLength(2);

    const topic = await scanAudience({ doc, tableName: 'naive' }, { topic: 'news' });
    expect(topic.matches.map((c) => c.connectionId)).toEqual(['a1', 'c1']);
  });

  it('posts to every match at once, unbounded, and counts what failed', async () => {
    twoPages();
    let inFlight = 0;
    let most = 0;
    const posted: string[] = [];
    const result = await naiveFanOut(
      {
        doc,
        tableName: 'naive',
        post: async (id, data) => {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight--;
          if (id === 'a2') throw new Error('gone');
          posted.push(`${id}:${data}`);
        },
      },
      { users: ['alice', 'carol'] },
      'frame',
      'unbounded',
    );
    expect(result).toEqual({ scanned: 4, delivered: 2, failed: 1 });
    expect(posted.sort()).toEqual(['a1:frame', 'c1:frame']);
    expect(most).toBe(3);
  });

  it('posts one at a time in sequential mode', async () => {
    twoPages();
    let inFlight = 0;
    let most = 0;
    const result = await naiveFanOut(
      {
        doc,
        tableName: 'naive',
        post: async () => {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 1));
          inFlight--;
        },
      },
      { topic: 'news' },
      'frame',
      'sequential',
    );
    expect(result.delivered).toBe(2);
    expect(most).toBe(1);
  });

  it('matches users by id and topics by membership', () => {
    expect(audienceMatcher({ users: ['a'] })(connection('x', 'a'))).toBe(true);
    expect(audienceMatcher({ users: ['a'] })(connection('x', 'b'))).toBe(false);
    expect(audienceMatcher({ topic: 't' })(connection('x', 'a', ['t']))).toBe(true);
    expect(audienceMatcher({ topic: 't' })(connection('x', 'a', ['u']))).toBe(false);
  });
});
