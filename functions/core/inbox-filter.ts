/**
 * What a list, a count or a bulk action of a user's inbox selects (`GET /notifications`
 * query, `POST /notifications/counts` and `/bulk` bodies): validated once here, so the HTTP
 * edge and the core agree on the rules. An unset `archived` or `snoozed` means false: the
 * default list hides archived and snoozed notifications.
 */
import * as z from 'zod';
import { TAG_PATTERN, TAG_RULE } from './envelope';
import type { Notification } from './model';
import { isValidTopic } from './topics';

export interface InboxFilter {
  tag?: string;
  type?: string;
  topic?: string;
  read?: boolean;
  seen?: boolean;
  archived?: boolean;
  snoozed?: boolean;
}

export const FILTER_FIELDS = [
  'tag',
  'type',
  'topic',
  'read',
  'seen',
  'archived',
  'snoozed',
] as const;

const TYPE_RULE = 'type must be 1 to 64 characters of [a-z0-9._-]';
const TOPIC_RULE = 'topic must be dot-separated tokens of [A-Za-z0-9_-]';

/** The filter's string fields, shared by the query-string and the JSON forms. */
export const filterStrings = {
  tag: z.string({ error: `tag ${TAG_RULE}` }).regex(TAG_PATTERN, `tag ${TAG_RULE}`),
  type: z.string({ error: TYPE_RULE }).regex(/^[a-z0-9._-]{1,64}$/, TYPE_RULE),
  topic: z.string({ error: TOPIC_RULE }).refine(isValidTopic, TOPIC_RULE),
};

const flag = (name: string) => z.boolean({ error: `${name} must be true or false` });

/** A filter as a JSON object (counts and bulk bodies): unknown fields are refused. */
export const filterObject = z.strictObject(
  {
    tag: filterStrings.tag.optional(),
    type: filterStrings.type.optional(),
    topic: filterStrings.topic.optional(),
    read: flag('read').optional(),
    seen: flag('seen').optional(),
    archived: flag('archived').optional(),
    snoozed: flag('snoozed').optional(),
  },
  { error: `a filter is an object of ${FILTER_FIELDS.join(', ')}` },
);

/** Whether a notification is selected by the filter: the rule every adapter's plan follows. */
export function matchesFilter(note: Notification, filter: InboxFilter): boolean {
  if ((filter.archived ?? false) !== note.archived) return false;
  if ((filter.snoozed ?? false) !== (note.snoozedUntil !== undefined)) return false;
  if (filter.read !== undefined && filter.read !== note.read) return false;
  if (filter.seen !== undefined && filter.seen !== note.seen) return false;
  if (filter.type !== undefined && filter.type !== note.type) return false;
  if (filter.topic !== undefined && filter.topic !== note.topic) return false;
  if (filter.tag !== undefined && !(note.tags ?? []).includes(filter.tag)) return false;
  return true;
}
