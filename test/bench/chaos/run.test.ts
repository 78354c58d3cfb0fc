/**
 * The chaos run, small: 200 notifications to 20 users with two devices each, some of them
 * offline in the middle and resuming, duplicates, email and invalid envelopes, under
 * @connections, DynamoDB and SES faults on the in-process local stack; every check passes.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '#bench/chaos/options';
import { runChaos } from '#bench/chaos/run';
import type { FaultPlan } from '#local/stack';

/**
 * Rates higher than `npm run chaos`'s so a small run meets every kind. Handler crashes and
 * overruns stay off here: a crashed batch comes back only after the queues' 180 s visibility
 * timeout, as in Lambda, which alone would triple this test; `npm run chaos` has them.
 */
const faults = {
  connections: { throttleRate: 0.1, errorRate: 0.05, slowRate: 0.1, slowMs: 100 },
  dynamodb: { throttleRate: 0.05 },
  ses: { errorRate: 0.15 },
  handlers: { crashRate: 0, overrunRate: 0 },
  seed: 7,
} satisfies FaultPlan;

describe('npm run chaos, small', () => {
  it('keeps every promise under faults: inboxes, badges, devices, email and DLQ', async () => {
    const result = await runChaos({
      ...DEFAULT_OPTIONS,
      notifications: 200,
      users: 20,
      minDevices: 2,
      maxDevices: 2,
      offlineShare: 0.3,
      emailUserShare: 0.5,
      duplicates: 20,
      // A bound on a hang, not on speed.
      deadlineSeconds: 400,
      faults,
      seed: 7,
    });

    expect(result.rows.map((row) => row.check)).toHaveLength(6);
    expect(result.rows.filter((row) => !row.pass)).toEqual([]);
    expect(result.passed).toBe(true);
    // The scenario did what it claims: devices went offline and resumed, mail was asked for.
    expect(result.plan.envelopes.some((envelope) => envelope.email)).toBe(true);
    expect(result.resumedDevices).toBeGreaterThan(0);
    // And the faults were really injected, not only planned.
    expect(Object.values(result.injected).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(
      0,
    );
  }, 600_000);
});
