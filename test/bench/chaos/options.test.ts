import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, parseChaosArgs } from '#bench/chaos/options';

describe('chaos flags', () => {
  it('default to the issue: 10,000 notifications to 500 users, 1–3 devices, faults on', () => {
    const options = parseChaosArgs([]);
    expect(options).toEqual(DEFAULT_OPTIONS);
    expect(options).toMatchObject({ notifications: 10_000, users: 500, minDevices: 1 });
    expect(options.maxDevices).toBe(3);
    expect(options.noFaults).toBe(false);
  });

  it('change sizes and fault rates, leaving the defaults alone', () => {
    const options = parseChaosArgs([
      '--notifications',
      '200',
      '--devices',
      '2-4',
      '--crash',
      '0.1',
      '--seed',
      '9',
      '--out',
      'chaos.md',
    ]);
    expect(options).toMatchObject({ notifications: 200, minDevices: 2, maxDevices: 4, seed: 9 });
    expect(options.faults.handlers.crashRate).toBe(0.1);
    expect(options.faults.seed).toBe(9);
    expect(options.out).toBe('chaos.md');
    expect(DEFAULT_OPTIONS.faults.handlers.crashRate).toBe(0.02);
    expect(parseChaosArgs(['--no-faults']).noFaults).toBe(true);
  });

  it('refuse unknown flags, missing values and rates outside 0–1', () => {
    expect(() => parseChaosArgs(['--fast'])).toThrow(/unknown flag --fast/);
    expect(() => parseChaosArgs(['--users'])).toThrow(/needs a value/);
    expect(() => parseChaosArgs(['--slow', '2'])).toThrow(/between 0 and 1/);
    expect(() => parseChaosArgs(['--devices', '3-1'])).toThrow(/A-B/);
  });
});
