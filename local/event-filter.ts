/**
 * Event-pattern matching for the local stack, the part Herald's patterns use: Lambda event
 * filtering (the TTL sweeper) and EventBridge rules (the local EventBridge). A pattern is an
 * object whose leaves list what is allowed; a record matches when every leaf's field holds
 * one of them (fields the pattern does not name are free). A leaf lists exact values and
 * prefixes (`{ prefix: "herald." }`). A field holding an array
 * matches when any element does, as in AWS. In AWS the event source mapping or the rule
 * applies the same pattern.
 */

/** A leaf's rule beyond an exact value. */
export type PatternRule = { readonly prefix: string };

export type PatternValue = string | number | boolean | PatternRule;

/** `{ eventName: ['REMOVE'], userIdentity: { type: ['Service'] } }` and the like. */
export interface EventPattern {
  readonly [field: string]: readonly PatternValue[] | EventPattern;
}

/** Whether `record` matches `pattern`. */
export function matchesPattern(pattern: EventPattern, record: unknown): boolean {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return false;
  const fields = record as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    const value = fields[field];
    if (isValueList(rule)) return rule.some((allowed) => matchesValue(allowed, value));
    return matchesPattern(rule, value);
  });
}

function matchesValue(allowed: PatternValue, value: unknown): boolean {
  if (typeof allowed === 'object') {
    const { prefix } = allowed;
    return anyOf(value, (each) => typeof each === 'string' && each.startsWith(prefix));
  }
  return anyOf(value, (each) => each === allowed);
}

function anyOf(value: unknown, test: (each: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function isValueList(rule: EventPattern[string]): rule is readonly PatternValue[] {
  return Array.isArray(rule);
}
