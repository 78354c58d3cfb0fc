/**
 * Reads the notifications table's stream for what DynamoDB's TTL removed: which users lost
 * an unread notification, and so have a new unread count to be told. A deletion of Herald's
 * own (the user deleting, a store taking back its item) already announced its count, and
 * is told apart by its identity: only TTL deletions carry the DynamoDB service principal.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { TTL_REMOVAL_IDENTITY } from '#config/ttl-removal';
import { NOTIFICATION_PREFIX } from './dynamo-keys';

export interface Owner {
  tenant: string;
  userId: string;
}

/** Whether DynamoDB's TTL removed this record's item. */
export function isTtlRemoval(record: DynamoDBRecord): boolean {
  return (
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === TTL_REMOVAL_IDENTITY.type &&
    record.userIdentity?.principalId === TTL_REMOVAL_IDENTITY.principalId
  );
}

/** A user to tell their count, and where in the stream their first such removal was. */
export interface ExpiredOwner extends Owner {
  /** The `SequenceNumber` of the batch's first record that names this user. */
  firstSequenceNumber?: string;
}

/**
 * The users (each once, in stream order) whose unread or unseen notification the TTL
 * removed in these records. A read and seen one, a topic's history, or any other item
 * moves no count.
 */
export function ownersOfExpiredUnread(records: DynamoDBRecord[]): ExpiredOwner[] {
  const owners = new Map<string, ExpiredOwner>();
  for (const record of records) {
    if (!isTtlRemoval(record)) continue;
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    if (pk === undefined || !sk?.startsWith(NOTIFICATION_PREFIX)) continue;
    const old = record.dynamodb?.OldImage;
    // Counted as unread or unseen (or both) until it went.
    if (old?.read?.BOOL !== false && old?.seen?.BOOL !== false) continue;
    const owner = ownerOfPartition(pk);
    if (owner && !owners.has(pk)) {
      owners.set(pk, { ...owner, firstSequenceNumber: record.dynamodb?.SequenceNumber });
    }
  }
  return [...owners.values()];
}

/**
 * The user whose partition `U#{tenant}#{userId}` is (see `userPartition`): a tenant never
 * holds `#`, and the free-form user id comes last, so it may. Undefined for any other.
 */
export function ownerOfPartition(pk: string): Owner | undefined {
  const match = /^U#([^#]+)#([\s\S]+)$/.exec(pk);
  if (!match?.[1] || !match[2]) return undefined;
  return { tenant: match[1], userId: match[2] };
}
