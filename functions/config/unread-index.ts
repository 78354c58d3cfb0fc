/**
 * The notifications table's one index: a sparse local secondary index over a user's
 * UNREAD notifications. Only an unread notification carries `unreadKey` (its own sort key),
 * so the index holds exactly the unread rows, kept by DynamoDB in the same write as the
 * row itself. Local, so it can be read strongly consistent: the unread count is a Query
 * of it, never a counter that could drift. The CDK stack and the local stack build it
 * from here, so the two cannot differ.
 */
export const UNREAD_INDEX = {
  name: 'unread',
  sortKey: 'unreadKey',
} as const;
