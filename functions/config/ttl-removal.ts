/**
 * What a notifications-table stream record looks like when DynamoDB's TTL deleted its item,
 * and the Lambda event-filter pattern that lets only those through. The CDK event source and
 * the local TTL sweeper both filter with `TTL_REMOVAL_FILTER`, so the two cannot differ.
 */

/** `userIdentity` of a stream record for an item that DynamoDB's TTL deleted. */
export const TTL_REMOVAL_IDENTITY = {
  type: 'Service',
  principalId: 'dynamodb.amazonaws.com',
} as const;

/**
 * A Lambda event-filter pattern (each leaf lists the values allowed): REMOVE records made
 * by the DynamoDB service principal, i.e. TTL deletions. Deletions of Herald's own carry no
 * `userIdentity` and never reach the function.
 */
export const TTL_REMOVAL_FILTER = {
  eventName: ['REMOVE'],
  userIdentity: {
    type: [TTL_REMOVAL_IDENTITY.type],
    principalId: [TTL_REMOVAL_IDENTITY.principalId],
  },
} as const;

/** How the stream is read: the AWS event source, and the local sweeper's batches alike. */
export const TTL_STREAM = {
  /** Records per invocation; one user's removals in a batch cost one count and one push. */
  batchSize: 100,
  /** Retries of a failing batch (halved each time) before it goes to the failure queue. */
  retryAttempts: 5,
} as const;
