import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  ownerOfPartition,
  ownersOfExpiredUnread,
  TTL_REMOVAL_IDENTITY,
} from '#adapters/dynamo-expiry-records';

function removal(pk: string, sk: string, read: boolean, byTtl = true): DynamoDBRecord {
  return {
    eventName: 'REMOVE',
    ...(byTtl ? { userIdentity: { ...TTL_REMOVAL_IDENTITY } } : {}),
    dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, OldImage: { read: { BOOL: read } } },
  };
}

describe('ownersOfExpiredUnread', () => {
  it('names each user once whose unread notification the TTL removed, and nothing else', () => {
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
      { tenant: 'acme', userId: 'alice' },
      { tenant: 'globex', userId: 'a#b' },
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
