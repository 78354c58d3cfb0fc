/**
 * How the fan-out's side of the inbox behaves when DynamoDB pushes back: failed
 * conditions (the idempotency checks), transaction conflicts and throttling. Unit tests
 * over a mocked document client; the happy paths run against DynamoDB Local elsewhere.
 */
import {
  ProvisionedThroughputExceededException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoFanOutInbox } from '#adapters/dynamo-fan-out-inbox';
import type { Notification, Recipient } from '#core/model';
import { conditionFailed, mockedDocumentClient, throttled } from '#test/support/dynamo-mock';

const dynamo = mockClient(DynamoDBDocumentClient);
const doc = mockedDocumentClient();

beforeEach(() => {
  dynamo.reset();
});

describe('failed conditions', () => {
  const recipient: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };
  const note: Notification = {
    id: 'n1',
    eventId: 'e1',
    type: 'comment.created',
    createdAt: '2030-01-01T00:00:00.000Z',
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
  let inbox: DynamoFanOutInbox;
  beforeEach(() => {
    inbox = new DynamoFanOutInbox(doc, 'notifications');
  });

  it('answers a redelivery from the failed condition alone: one request, nothing recorded', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed());

    expect(await inbox.store(recipient, note, 1)).toEqual({ fresh: false });
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('stores a fresh notification in its one conditional Put, recording nothing beside it', async () => {
    dynamo.on(PutCommand).resolves({});

    expect(await inbox.store(recipient, note, 1)).toEqual({ fresh: true });
    // A deleted one's tombstone takes its key, so nothing else needs to remember it.
    expect(dynamo.calls()).toHaveLength(1);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      Item: { pk: 'U#acme#alice', sk: 'N#n1', expiresAt: 1, unreadKey: 'N#n1' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('lets any other store failure propagate', async () => {
    dynamo.on(PutCommand).rejects(throttled());

    await expect(inbox.store(recipient, note, 1)).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
  });

  it('retries the Put when a transaction holds the item, so no store is lost', async () => {
    const conflict = () => new TransactionConflictException({ message: 'conflict', $metadata: {} });
    dynamo.on(PutCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});
    inbox = new DynamoFanOutInbox(doc, 'notifications', { sleep: async () => undefined });

    expect(await inbox.store(recipient, note, 1)).toEqual({ fresh: true });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(3);
    expect(dynamo.calls()).toHaveLength(3);
  });
});
