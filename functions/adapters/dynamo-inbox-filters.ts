/**
 * Which sparse index a filter of a user's inbox reads, and what is left of it as a
 * FilterExpression over what the index projects (`#config/inbox-indexes`), so no filter
 * ever reads a base row to decide:
 *
 * | filter | index | FilterExpression |
 * |---|---|---|
 * | `read=false` (not archived or snoozed) | `unread` | the rest |
 * | `seen=false` (not archived or snoozed) | `unseen` | the rest |
 * | otherwise not archived or snoozed | `visible` | the rest |
 * | `archived=true` and/or `snoozed=true` | `hidden` | which of the two, and the rest |
 *
 * "The rest" are `tag` (`contains(tags, :tag)`), `type`, `topic`, `read=true`, `seen=true`.
 */
import type { InboxIndexName } from '#config/inbox-indexes';
import type { InboxFilter } from '#core/inbox-filter';
import type { IndexFilter } from './dynamo-unread-index';

export interface FilterPlan {
  index: InboxIndexName;
  filter?: IndexFilter;
}

export function planOf(filter: InboxFilter): FilterPlan {
  const archived = filter.archived ?? false;
  const snoozed = filter.snoozed ?? false;
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const flag = (name: 'read' | 'seen' | 'archived', value: boolean) => {
    names[`#${name}`] = name;
    // DynamoDB refuses a value the expressions leave unused: only the one named.
    if (value) values[':fTrue'] = true;
    else values[':fFalse'] = false;
    conditions.push(
      value ? `#${name} = :fTrue` : `(attribute_not_exists(#${name}) OR #${name} = :fFalse)`,
    );
  };
  let index: InboxIndexName;
  if (archived || snoozed) {
    index = 'hidden';
    flag('archived', archived);
    names['#snoozedUntil'] = 'snoozedUntil';
    conditions.push(
      snoozed ? 'attribute_exists(#snoozedUntil)' : 'attribute_not_exists(#snoozedUntil)',
    );
    if (filter.read !== undefined) flag('read', filter.read);
    if (filter.seen !== undefined) flag('seen', filter.seen);
  } else if (filter.read === false) {
    index = 'unread';
    if (filter.seen !== undefined) flag('seen', filter.seen);
  } else if (filter.seen === false) {
    index = 'unseen';
    if (filter.read !== undefined) flag('read', filter.read);
  } else {
    index = 'visible';
    if (filter.read !== undefined) flag('read', filter.read);
    if (filter.seen !== undefined) flag('seen', filter.seen);
  }
  for (const field of ['type', 'topic'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    conditions.push(`#${field} = :${field}`);
  }
  if (filter.tag !== undefined) {
    names['#tags'] = 'tags';
    values[':tag'] = filter.tag;
    conditions.push('contains(#tags, :tag)');
  }
  if (conditions.length === 0) return { index };
  return { index, filter: { expression: conditions.join(' AND '), names, values } };
}
