import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { TTL_REMOVAL_IDENTITY } from '#config/ttl-removal';
import { makeHandler } from '#handlers/inbox-expiry';

function expiredUnread(pk: string, sk: string, sequenceNumber?: string): DynamoDBRecord {
  return {
    eventName: 'REMOVE',
    userIdentity: { ...TTL_REMOVAL_IDENTITY },
    dynamodb: {
      Keys: { pk: { S: pk }, sk: { S: sk } },
      OldImage: { read: { BOOL: false } },
      ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber }),
    },
  };
}

describe('inbox-expiry handler', () => {
  it('announces the count of each user who lost an unread notification to TTL', async () => {
    const announced: string[] = [];
    const handler = makeHandler({
      inbox: {
        announceState: async (owner) => {
          announced.push(`${owner.tenant}/${owner.userId}`);
          return { unread: 0, unseen: 0 };
        },
      },
    });

    const response = await handler({ Records: [expiredUnread('U#acme#alice', 'N#1', '1')] });

    expect(announced).toEqual(['acme/alice']);
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports a user whose count could not be read at their first record, and tells the rest', async () => {
    const announced: string[] = [];
    const handler = makeHandler({
      inbox: {
        announceState: async (owner) => {
          if (owner.userId === 'bob') throw new Error('throttled');
          announced.push(owner.userId);
          return { unread: 0, unseen: 0 };
        },
      },
    });

    const response = await handler({
      Records: [
        expiredUnread('U#acme#alice', 'N#1', '10'),
        expiredUnread('U#acme#bob', 'N#2', '11'),
        expiredUnread('U#acme#bob', 'N#3', '12'),
      ],
    });

    expect(announced).toEqual(['alice']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }] });
  });

  it('fails the whole batch when a failed record has no sequence number to name', async () => {
    const handler = makeHandler({
      inbox: {
        announceState: async () => {
          throw new Error('throttled');
        },
      },
    });

    await expect(handler({ Records: [expiredUnread('U#acme#alice', 'N#1')] })).rejects.toThrow(
      'throttled',
    );
  });
});
