/**
 * Lambda event filtering for the local stack, the part Herald's patterns use: a pattern is
 * an object whose leaves list the values allowed, and a record matches when every leaf's
 * field holds one of them (fields the pattern does not name are free). In AWS the event
 * source mapping applies the same pattern before the function sees a record.
 */

/** `{ eventName: ['REMOVE'], userIdentity: { type: ['Service'] } }` and the like. */
export interface EventPattern {
  readonly [field: string]: readonly (string | number | boolean)[] | EventPattern;
}

/** Whether `record` matches `pattern` (exact values only; no prefix, numeric or exists rules). */
export function matchesPattern(pattern: EventPattern, record: unknown): boolean {
  if (record === null || typeof record !== 'object') return false;
  const fields = record as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    const value = fields[field];
    if (isValueList(rule)) return rule.some((allowed) => allowed === value);
    return matchesPattern(rule, value);
  });
}

function isValueList(rule: EventPattern[string]): rule is readonly (string | number | boolean)[] {
  return Array.isArray(rule);
}
