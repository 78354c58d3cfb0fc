import { describe, expect, it } from 'vitest';
import { faultDice } from '#local/faults/fault-dice';

const rolls = (seed: number | undefined, stream: string, rate: number, count = 200) => {
  const dice = faultDice(seed, stream);
  return Array.from({ length: count }, () => dice.roll(rate));
};

describe('faultDice', () => {
  it('always faults at rate 1 and never at rate 0 or without a rate', () => {
    expect(rolls(7, 'a', 1).every(Boolean)).toBe(true);
    expect(rolls(7, 'a', 0).some(Boolean)).toBe(false);
    const dice = faultDice(7, 'a');
    expect(Array.from({ length: 50 }, () => dice.roll(undefined)).some(Boolean)).toBe(false);
  });

  it('repeats the same sequence for the same seed and stream', () => {
    expect(rolls(7, 'dynamodb', 0.3)).toEqual(rolls(7, 'dynamodb', 0.3));
  });

  it('gives other sequences for another seed or another stream', () => {
    expect(rolls(8, 'dynamodb', 0.3)).not.toEqual(rolls(7, 'dynamodb', 0.3));
    expect(rolls(7, 'ses', 0.3)).not.toEqual(rolls(7, 'dynamodb', 0.3));
  });

  it('faults at about the configured rate', () => {
    const faults = rolls(7, 'rate', 0.3, 10_000).filter(Boolean).length;
    expect(faults).toBeGreaterThan(2_700);
    expect(faults).toBeLessThan(3_300);
  });

  it('picks whole numbers below the count', () => {
    const dice = faultDice(1, 'pick');
    const picks = Array.from({ length: 500 }, () => dice.pick(4));
    expect(new Set(picks)).toEqual(new Set([0, 1, 2, 3]));
  });
});
