/**
 * Whether a value is plain JSON that every place Herald puts an envelope can carry as it
 * is: `JSON.stringify`, zod, a DynamoDB item (through the document client's marshalling)
 * and a WebSocket frame. Anything else would make one of them throw on every attempt, so
 * it must be refused up front, where the reason can still be given.
 */

export interface PlainJsonLimits {
  /** Most levels of objects and arrays, the outermost one counting as 1. */
  maxDepth: number;
  /** Most values in all (each takes at least one byte of JSON text). */
  maxValues: number;
}

export type PlainJsonRule =
  /** Objects and arrays nested deeper than `maxDepth`. */
  | 'depth'
  /** More than `maxValues` values. */
  | 'values'
  /** Not a string, finite number, boolean, null, array or plain object. */
  | 'type'
  /** A number DynamoDB or its marshalling refuses (see `isStorableNumber`). */
  | 'number'
  /** An object key that is empty (DynamoDB: "Empty attribute name"). */
  | 'key';

export interface PlainJsonProblem {
  rule: PlainJsonRule;
  /** Keys and indexes from the root to the offending value. */
  path: Array<string | number>;
}

/**
 * DynamoDB stores magnitudes from 1e-130 to below 1e126, and the document client refuses
 * every number beyond ±(2^53 − 1) rather than lose precision.
 */
export const STORABLE_NUMBERS = { maxMagnitude: Number.MAX_SAFE_INTEGER, minMagnitude: 1e-130 };

export function isStorableNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  return (
    Number.isFinite(value) &&
    magnitude <= STORABLE_NUMBERS.maxMagnitude &&
    (magnitude === 0 || magnitude >= STORABLE_NUMBERS.minMagnitude)
  );
}

/**
 * The first problem found in `value`, or undefined when it is plain, storable JSON.
 * The walk keeps its own stack, so no nesting, however deep, can overflow the call stack;
 * it stops at the first level past `maxDepth`, and cycles count as depth.
 * A property whose value is `undefined` counts as absent, as it does in JSON.
 */
export function plainJsonProblem(
  value: unknown,
  limits: PlainJsonLimits,
): PlainJsonProblem | undefined {
  const pending: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  let values = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, path } = next;
    if (++values > limits.maxValues) return { rule: 'values', path };
    const problem = scalarProblem(current);
    if (problem === 'container') {
      // The containers enclosing this one, plus itself.
      const depth = path.length + 1;
      if (depth > limits.maxDepth) return { rule: 'depth', path };
      if (Array.isArray(current)) {
        for (const [index, item] of current.entries()) {
          if (item === undefined) return { rule: 'type', path: [...path, index] };
          pending.push({ value: item, path: [...path, index] });
        }
      } else {
        for (const [key, item] of Object.entries(current as object)) {
          if (key === '') return { rule: 'key', path: [...path, key] };
          if (item !== undefined) pending.push({ value: item, path: [...path, key] });
        }
      }
    } else if (problem !== undefined) {
      return { rule: problem, path };
    }
  }
  return undefined;
}

/** 'container' for an array or plain object, a rule a scalar breaks, or undefined. */
function scalarProblem(value: unknown): 'container' | PlainJsonRule | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return isStorableNumber(value) ? undefined : 'number';
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) return 'container';
      const prototype = Object.getPrototypeOf(value);
      return prototype === Object.prototype || prototype === null ? 'container' : 'type';
    }
    default:
      return 'type';
  }
}
