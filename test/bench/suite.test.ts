import { describe, expect, it } from 'vitest';
import { constructMemoryMb, lambdaMs, MB_PER_VCPU, plan } from '#bench/suite';

describe('lambdaMs', () => {
  it('is the wall time when the CPU share covers the CPU used', () => {
    expect(lambdaMs(100, 10, 512)).toBe(100);
  });

  it('stretches CPU time by the function’s share of a vCPU', () => {
    expect(lambdaMs(10, 29, 512)).toBeCloseTo((29 * MB_PER_VCPU) / 512, 6);
    // At 1,769 MB and above a function has a whole vCPU, no more for one thread.
    expect(lambdaMs(10, 29, 3538)).toBe(29);
  });
});

describe('constructMemoryMb', () => {
  it('falls back to HeraldFunction’s default for a construct it cannot read', () => {
    expect(constructMemoryMb('no-such-construct.ts')).toBe(256);
  });
});

describe('plan', () => {
  it('measures K up to 10,000 in the full run, and less in the quick one', () => {
    expect(Math.max(...plan(false).sizes)).toBe(10_000);
    expect(Math.max(...plan(true).sizes)).toBeLessThan(10_000);
    expect(plan(false).endToEnd).toMatchObject({ clients: 1_000, users: 200 });
    expect(plan(false).endToEnd.rates).toContain(200);
    expect(plan(false).coldStart.runs).toBe(20);
  });
});
