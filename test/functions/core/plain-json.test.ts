import { describe, expect, it } from 'vitest';
import { isStorableNumber, plainJsonProblem, STORABLE_NUMBERS } from '#core/plain-json';

const LIMITS = { maxDepth: 4, maxValues: 100 };

/** `levels` objects nested in each other, the outermost counting as 1. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

class Point {
  x = 1;
}

describe('plainJsonProblem', () => {
  it('accepts plain JSON within the limits', () => {
    const value = { s: 'x', n: -1.5, t: true, z: null, list: [1, 'two', { three: [3] }] };
    expect(plainJsonProblem(value, LIMITS)).toBeUndefined();
    expect(plainJsonProblem('a scalar', LIMITS)).toBeUndefined();
  });

  it('counts the outermost object as level 1 and refuses the first level past the limit', () => {
    expect(plainJsonProblem(nested(4), LIMITS)).toBeUndefined();
    expect(plainJsonProblem(nested(5), LIMITS)).toEqual({
      rule: 'depth',
      path: ['a', 'a', 'a', 'a'],
    });
    expect(plainJsonProblem([[[[]]]], LIMITS)).toBeUndefined();
    expect(plainJsonProblem([[[[[]]]]], LIMITS)).toEqual({ rule: 'depth', path: [0, 0, 0, 0] });
  });

  it.each([5_000, 200_000])('refuses %i levels without overflowing the stack', (levels) => {
    // Built as JSON text, as a body brings it; building it with objects would be the same.
    const value = JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
    expect(plainJsonProblem(value, { maxDepth: 32, maxValues: 1e6 })?.rule).toBe('depth');
  });

  it('refuses a cycle as too deep', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(plainJsonProblem({ data: cycle }, LIMITS)?.rule).toBe('depth');
  });

  it('refuses more values than the limit, also a shared value counted each time it is reached', () => {
    const shared = Array.from({ length: 10 }, (_, i) => i);
    // The outer array, then 11 values per copy: 100 for 9 copies.
    expect(plainJsonProblem(Array(9).fill(shared), LIMITS)).toBeUndefined();
    expect(plainJsonProblem(Array(10).fill(shared), LIMITS)?.rule).toBe('values');
  });

  it.each<[string, unknown]>([
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new Point()],
    ['a function', () => 1],
    ['a bigint', 1n],
    ['a symbol', Symbol('s')],
    ['undefined in an array', [1, undefined]],
    ['a hole in an array', Object.assign([1], { 2: 3 })],
  ])('refuses %s', (_what, value) => {
    expect(plainJsonProblem({ v: value }, LIMITS)?.rule).toBe('type');
  });

  it('takes a property that is undefined as absent, as JSON does', () => {
    expect(plainJsonProblem({ a: undefined, b: 1 }, LIMITS)).toBeUndefined();
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.assign(Object.create(null), { a: 1 });
    expect(plainJsonProblem(bare, LIMITS)).toBeUndefined();
  });

  it('refuses an empty key, which DynamoDB refuses as an attribute name', () => {
    expect(plainJsonProblem({ a: { '': 1 } }, LIMITS)).toEqual({ rule: 'key', path: ['a', ''] });
  });

  it('refuses numbers DynamoDB or the document client would refuse', () => {
    expect(plainJsonProblem({ a: [1, 2 ** 53] }, LIMITS)).toEqual({
      rule: 'number',
      path: ['a', 1],
    });
  });
});

describe('isStorableNumber', () => {
  it.each([
    0,
    -0,
    1,
    -1.5,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    STORABLE_NUMBERS.minMagnitude,
    -STORABLE_NUMBERS.minMagnitude,
  ])('stores %d', (value) => {
    expect(isStorableNumber(value)).toBe(true);
  });

  it.each([
    Number.MAX_SAFE_INTEGER + 1,
    Number.MIN_SAFE_INTEGER - 1,
    1e21,
    1e-131,
    5e-324,
    Number.POSITIVE_INFINITY,
    Number.NaN,
  ])('refuses %d', (value) => {
    expect(isStorableNumber(value)).toBe(false);
  });
});
