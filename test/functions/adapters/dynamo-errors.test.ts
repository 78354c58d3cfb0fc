/**
 * How the DynamoDB adapters behave when DynamoDB pushes back: unprocessed batch items,
 * throttling, failed conditions, and cursors a client tampered with. Unit tests over a
 * mocked document client; the happy paths run against DynamoDB Local elsewhere.
 */
import {
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { BadRequestError, NotFoundError, RetryableError } from '#core/errors';
import type { Connection } from '#core/model';
import { conditionFailed, mockedDocumentClient, throttled } from '#test/support/dynamo-mock';

const TABLE = 'connections';
const NOW_MS = Date.UTC(2030, 0, 1);

const dynamo = mockClient(DynamoDBDocumentClient);
const doc = mockedDocumentClient();
let delays: number[];
let store: DynamoConnectionStore;

beforeEach(() => {
  dynamo.reset();
  delays = [];
  store = new DynamoConnectionStore(doc, TABLE, () => NOW_MS, {
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
});

const connection: Connection = {
  connectionId: 'c1',
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: [],
  connectedAt: NOW_MS,
  topics: [],
};

const storedConnection = (topics: string[]) => ({
  pk: 'C#c1',
  sk: 'C',
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: [],
  connectedAt: NOW_MS,
  topics: new Set(topics),
  expiresAt: NOW_MS / 1000 + 60,
});

function batchRequests() {
  return dynamo
    .commandCalls(BatchWriteCommand)
    .map((call) => call.args[0].input.RequestItems?.[TABLE] ?? []);
}

describe('batch writes', () => {
  it('resends unprocessed items, and only those, until none are left', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedConnection(['t.1', 't.2']) });
    const userEntry = { DeleteRequest: { Key: { pk: 'U#acme#alice', sk: 'C#c1' } } };
    const topicEntry = { DeleteRequest: { Key: { pk: 'T#acme#t.2', sk: 'C#c1' } } };
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [userEntry, topicEntry] } })
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [topicEntry] } })
      .resolves({ UnprocessedItems: {} });

    await store.remove('c1');

    const requests = batchRequests();
    expect(requests).toHaveLength(3);
    expect(requests[0]).toHaveLength(4);
    expect(requests[1]).toEqual([userEntry, topicEntry]);
    expect(requests[2]).toEqual([topicEntry]);
    expect(delays).toHaveLength(2);
  });

  it('gives up with a RetryableError when items stay unprocessed', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedConnection([]) });
    const stuck = { DeleteRequest: { Key: { pk: 'C#c1', sk: 'C' } } };
    dynamo.on(BatchWriteCommand).resolves({ UnprocessedItems: { [TABLE]: [stuck] } });

    await expect(store.remove('c1')).rejects.toBeInstanceOf(RetryableError);
    expect(batchRequests().length).toBeGreaterThan(2);
    // A jittered wait before every resend, each within the backoff's cap.
    expect(delays).toHaveLength(batchRequests().length - 1);
    expect(delays.every((ms) => ms >= 0 && ms <= 2_000)).toBe(true);
  });

  it('splits more than 25 writes into batches of at most 25, the connection entry last', async () => {
    const topics = Array.from({ length: 30 }, (_, i) => `t.${i}`);
    dynamo.on(GetCommand).resolves({ Item: storedConnection(topics) });
    dynamo.on(BatchWriteCommand).resolves({});

    await store.remove('c1');

    const requests = batchRequests();
    expect(requests.map((batch) => batch.length)).toEqual([25, 7]);
    expect(requests.at(-1)?.at(-1)).toEqual({ DeleteRequest: { Key: { pk: 'C#c1', sk: 'C' } } });
  });

  it('lets throttling that outlasted the SDK retries propagate', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedConnection([]) });
    dynamo.on(BatchWriteCommand).rejects(throttled());

    await expect(store.remove('c1')).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    await expect(store.put(connection, 1)).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
  });
});

describe('throttled reads', () => {
  it('propagates from queries and gets', async () => {
    dynamo.on(QueryCommand).rejects(new ThrottlingException({ message: 'slow', $metadata: {} }));
    dynamo.on(GetCommand).rejects(throttled());
    const inbox = new DynamoOwnerInbox(doc, 'notifications');

    await expect(store.listForUser('acme', 'alice')).rejects.toBeInstanceOf(ThrottlingException);
    await expect(store.listForTopic('acme', 't', { limit: 5 })).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    await expect(store.get('c1')).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    // The unread count is a Query of the unread index now, not a GetItem of a counter.
    await expect(inbox.unreadCount('acme', 'alice')).rejects.toBeInstanceOf(ThrottlingException);
  });
});

describe('batched preference reads', () => {
  const prefs = () => new DynamoPreferenceStore(doc, 'notifications', { consistentReads: false });
  const aliceKey = { pk: 'U#acme#alice', sk: 'PREFS' };
  const bobKey = { pk: 'U#acme#bob', sk: 'PREFS' };

  it('asks again for the keys DynamoDB left unprocessed, and only for those', async () => {
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { notifications: [{ ...aliceKey, channels: { inapp: false } }] },
        UnprocessedKeys: { notifications: { Keys: [bobKey] } },
      })
      .resolves({ Responses: { notifications: [{ ...bobKey, channels: { email: 'never' } }] } });

    const found = await prefs().many([
      { tenant: 'acme', userId: 'alice' },
      { tenant: 'acme', userId: 'bob' },
    ]);

    expect(found).toEqual([{ channels: { inapp: false } }, { channels: { email: 'never' } }]);
    const calls = dynamo.commandCalls(BatchGetCommand).map((call) => call.args[0].input);
    expect(calls[0]?.RequestItems?.notifications).toMatchObject({ ConsistentRead: false });
    expect(calls[1]?.RequestItems?.notifications?.Keys).toEqual([bobKey]);
  });

  it('reads 100 keys to a request, duplicates once, and answers in the order asked', async () => {
    dynamo.on(BatchGetCommand).callsFake((input) => ({
      Responses: {
        notifications: input.RequestItems.notifications.Keys.map((key: object) => ({
          ...key,
          channels: { inapp: true },
        })),
      },
    }));
    const keys = Array.from({ length: 230 }, (_, i) => ({ tenant: 'acme', userId: `u-${i}` }));

    const found = await prefs().many([...keys, keys[0] as (typeof keys)[0]]);

    const sizes = dynamo
      .commandCalls(BatchGetCommand)
      .map((call) => call.args[0].input.RequestItems?.notifications?.Keys?.length);
    expect(sizes).toEqual([100, 100, 30]);
    expect(found).toHaveLength(231);
    expect(found.every((each) => each?.channels?.inapp === true)).toBe(true);
  });

  it('gives up with a retryable error while DynamoDB keeps leaving keys unprocessed', async () => {
    dynamo
      .on(BatchGetCommand)
      .resolves({ Responses: {}, UnprocessedKeys: { notifications: { Keys: [aliceKey] } } });

    await expect(prefs().many([{ tenant: 'acme', userId: 'alice' }])).rejects.toBeInstanceOf(
      RetryableError,
    );
  }, 20_000);
});

describe('cursors', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const malformed = {
    'not base64url': 'abc+/=',
    'not JSON': Buffer.from('{pk:').toString('base64url'),
    'JSON but not an object': encode(['U#acme#alice', 'C#x']),
    null: encode(null),
    'a key with more attributes': encode({ pk: 'U#acme#alice', sk: 'C#x', admin: true }),
    'a numeric sort key': encode({ pk: 'U#acme#alice', sk: 7 }),
    'another user’s partition': encode({ pk: 'U#acme#mallory', sk: 'C#x' }),
    'a sort key outside the listing': encode({ pk: 'U#acme#alice', sk: 'STATE' }),
    'far too long': 'A'.repeat(5_000),
  };

  it.each(Object.entries(malformed))(
    'rejects %s as a bad request, before any query',
    async (_, cursor) => {
      dynamo.on(QueryCommand).resolves({ Items: [] });
      const inbox = new DynamoOwnerInbox(doc, 'notifications');

      await expect(store.listForUser('acme', 'alice', cursor)).rejects.toBeInstanceOf(
        BadRequestError,
      );
      await expect(
        inbox.list({ kind: 'user', tenant: 'acme', userId: 'alice' }, { limit: 5, cursor }),
      ).rejects.toBeInstanceOf(BadRequestError);
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
    },
  );

  it('hands back the key DynamoDB returned, and takes it as the next start key', async () => {
    const lastKey = { pk: 'T#acme#news', sk: 'C#c9' };
    dynamo.on(QueryCommand).resolvesOnce({ Items: [], LastEvaluatedKey: lastKey }).resolves({});

    const first = await store.listForTopic('acme', 'news', { limit: 5 });
    const second = await store.listForTopic('acme', 'news', { limit: 5, cursor: first.cursor });

    expect(first.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(dynamo.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual(lastKey);
    expect(second).toEqual({ items: [] });
  });

  describe('a page asks for one entry more than its limit', () => {
    const entry = (id: string) => ({ sk: `C#${id}`, connectionId: id, userId: 'u' });
    const startKeys = () =>
      dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input.ExclusiveStartKey);

    it('and ends after the last entry it keeps when the extra one came back', async () => {
      dynamo
        .on(QueryCommand)
        .resolvesOnce({
          Items: [entry('a'), entry('b'), entry('c')],
          LastEvaluatedKey: { pk: 'T#acme#news', sk: 'C#c' },
        })
        .resolves({});

      const page = await store.listForTopic('acme', 'news', { limit: 2 });
      await store.listForTopic('acme', 'news', { limit: 2, cursor: page.cursor });

      expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input.Limit).toBe(3);
      expect(page.items.map((ref) => ref.connectionId)).toEqual(['a', 'b']);
      expect(startKeys()[1]).toEqual({ pk: 'T#acme#news', sk: 'C#b' });
    });

    it('and is the last page when the extra one did not come', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [entry('a'), entry('b')] });
      expect(await store.listForTopic('acme', 'news', { limit: 2 })).toEqual({
        items: [
          { connectionId: 'a', userId: 'u' },
          { connectionId: 'b', userId: 'u' },
        ],
      });
    });

    it('but goes on from DynamoDB’s key when DynamoDB stopped short of it (1 MB read)', async () => {
      const stoppedAt = { pk: 'U#acme#alice', sk: 'C#b' };
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [entry('a'), entry('b')], LastEvaluatedKey: stoppedAt })
        .resolves({});

      const page = await store.listForUser('acme', 'alice');
      await store.listForUser('acme', 'alice', page.cursor);

      expect(page.items).toHaveLength(2);
      expect(startKeys()[1]).toEqual(stoppedAt);
    });
  });
});

describe('failed conditions', () => {
  it('maps a missing connection in subscribe to NotFoundError and writes no topic entry', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());

    await expect(store.subscribe(connection, ['t.1'], 1)).rejects.toBeInstanceOf(NotFoundError);
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('treats a missing connection in unsubscribe as already unsubscribed', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    dynamo.on(UpdateCommand).rejects(conditionFailed());

    await expect(store.unsubscribe(connection, ['t.1'])).resolves.toBeUndefined();
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('lets a throttled subscribe propagate rather than report NotFound', async () => {
    dynamo.on(UpdateCommand).rejects(throttled());

    await expect(store.subscribe(connection, ['t.1'], 1)).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
  });
});
