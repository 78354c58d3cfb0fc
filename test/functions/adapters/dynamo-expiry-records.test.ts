import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ownerOfPartition, ownersOfExpiredUnread } from '#adapters/dynamo-expiry-records';
import { TTL_REMOVAL_IDENTITY } from '#config/ttl-removal';

let sequence = 0;

function removal(pk: string, sk: string, read: boolean, byTtl = true): DynamoDBRecord {
  sequence += 1;
  return {
    eventName: 'REMOVE',
    ...(byTtl ? { userIdentity: { ...TTL_REMOVAL_IDENTITY } } : {}),
    dynamodb: {
      Keys: { pk: { S: pk }, sk: { S: sk } },
      OldImage: { read: { BOOL: read } },
      SequenceNumber: String(sequence),
    },
  };
}

describe('ownersOfExpiredUnread', () => {
  it('names each user once whose unread notification the TTL removed, and nothing else', () => {
    sequence = 0;
    expect(
      ownersOfExpiredUnread([
        removal('U#acme#alice', 'N#1', false),
        removal('U#acme#alice', 'N#2', false),
        removal('U#acme#bob', 'N#3', true),
        removal('U#acme#carol', 'N#4', false, false),
        removal('T#acme#project.1', 'N#5', false),
        removal('U#acme#dave', 'STATE', false),
        { ...removal('U#acme#erin', 'N#6', false), eventName: 'MODIFY' },
        removal('U#globex#a#b', 'N#7', false),
      ]),
    ).toEqual([
      // At the first of alice's two removals: a retry from there covers both.
      { tenant: 'acme', userId: 'alice', firstSequenceNumber: '1' },
      { tenant: 'globex', userId: 'a#b', firstSequenceNumber: '8' },
    ]);
  });

  it("moves no count when the TTL removes a deleted notification's tombstone", () => {
    const tombstone: DynamoDBRecord = {
      ...removal('U#acme#alice', 'N#1', false),
      dynamodb: {
        Keys: { pk: { S: 'U#acme#alice' }, sk: { S: 'N#1' } },
        OldImage: { deleted: { BOOL: true }, expiresAt: { N: '1' } },
      },
    };

    expect(ownersOfExpiredUnread([tombstone])).toEqual([]);
  });

  it('reads only user partitions', () => {
    expect(ownerOfPartition('U#acme#')).toBeUndefined();
    expect(ownerOfPartition('C#abc')).toBeUndefined();
  });
});
