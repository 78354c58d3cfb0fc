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
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoFanOutInbox,
  RECENT_EVENTS_HIGH,
  RECENT_EVENTS_KEPT,
} from '#adapters/dynamo-fan-out-inbox';
import { eventTag } from '#adapters/dynamo-recent-notifications';
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

  it('records the notification in the one write on the user state', async () => {
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({ Attributes: {} });

    expect(await inbox.store(recipient, note, 1)).toEqual({ fresh: true });
    const update = dynamo.commandCalls(UpdateCommand);
    expect(update).toHaveLength(1);
    expect(update[0]?.args[0].input).toMatchObject({
      Key: { pk: 'U#acme#alice', sk: 'STATE' },
      // No count here: the unread index counts the row's own write.
      UpdateExpression: 'SET #event = :at',
      ConditionExpression: 'attribute_not_exists(#event)',
      // The notification's id: a re-publish comes with the same one (the event ledger's doing).
      ExpressionAttributeNames: { '#event': eventTag('n1') },
    });
  });

  it('trims the recent events once there are too many, keeping the newest', async () => {
    const recent = Object.fromEntries(
      Array.from({ length: RECENT_EVENTS_HIGH + 1 }, (_, i) => [`e_${i}`, 1000 + i]),
    );
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({ Attributes: recent });

    await inbox.store(recipient, note, 1);

    const [, trim] = dynamo.commandCalls(UpdateCommand);
    const removed = Object.values(trim?.args[0].input.ExpressionAttributeNames ?? {});
    expect(removed).toHaveLength(RECENT_EVENTS_HIGH + 1 - RECENT_EVENTS_KEPT);
    expect(removed).toContain('e_0');
    expect(removed).not.toContain(`e_${RECENT_EVENTS_HIGH}`);
  });

  it('takes back the item of a recent notification the user deleted since', async () => {
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).rejects(conditionFailed({ [eventTag('n1')]: { N: '1000' } }));
    dynamo.on(DeleteCommand).resolves({});

    const outcome = await inbox.store(recipient, note, 1);

    expect(outcome).toEqual({ fresh: false });
    expect(dynamo.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'U#acme#alice', sk: 'N#n1' },
    });
    // No count to mend: the unread index loses the row with the row.
    expect(
      dynamo.commandCalls(DeleteCommand)[0]?.args[0].input.ConditionExpression,
    ).toBeUndefined();
  });

  it('lets any other store failure propagate', async () => {
    dynamo.on(PutCommand).rejects(throttled());

    await expect(inbox.store(recipient, note, 1)).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
  });

  it('retries the record when a transaction holds the user state, so no store goes unrecorded', async () => {
    const conflict = () => new TransactionConflictException({ message: 'conflict', $metadata: {} });
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});
    inbox = new DynamoFanOutInbox(doc, 'notifications', { sleep: async () => undefined });

    expect(await inbox.store(recipient, note, 1)).toEqual({ fresh: true });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(3);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(1);
  });
});
