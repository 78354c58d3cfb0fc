import { describe, expect, it } from 'vitest';
import { createFrameGate } from '#core/frame-rate';
import type { FrameBudget, FrameRule, FrameVerdict } from '#core/ports';
import { FakeClock } from '#test/support/fakes';

/** An in-memory GCRA bucket per connection, as the DynamoDB adapter keeps one. */
class MemoryBudget implements FrameBudget {
  private readonly tat = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  async take(connectionId: string, rule: FrameRule, nowMs: number): Promise<FrameVerdict> {
    const interval = 1000 / rule.perSecond;
    const tat = Math.max(this.tat.get(connectionId) ?? nowMs, nowMs);
    if (tat - nowMs <= (rule.burst - 1) * interval) {
      this.tat.set(connectionId, tat + interval);
      return { admitted: true };
    }
    const refusals = (this.refusals.get(connectionId) ?? 0) + 1;
    this.refusals.set(connectionId, refusals);
    return { admitted: false, refusals };
  }
}

function setup() {
  const clock = new FakeClock();
  const closed: string[] = [];
  const gate = createFrameGate({
    budget: new MemoryBudget(),
    disconnector: { disconnect: async (id) => void closed.push(id) },
    clock,
    settings: { perSecond: 2, burst: 3, refusalsBeforeClose: 2 },
  });
  return { clock, closed, gate };
}

describe('frame gate', () => {
  it('admits a burst, refuses the excess as rate_limited, and admits again once refilled', async () => {
    const { clock, gate } = setup();
    for (let i = 0; i < 3; i++) expect(await gate('c1')).toBeUndefined();
    expect(await gate('c1')).toMatchObject({ code: 'rate_limited' });
    clock.time += 500;
    expect(await gate('c1')).toBeUndefined();
  });

  it('closes the connection at the refusal count, not before', async () => {
    const { closed, gate } = setup();
    for (let i = 0; i < 3; i++) await gate('c1');
    await gate('c1');
    expect(closed).toEqual([]);
    expect(await gate('c1')).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining('closing'),
    });
    expect(closed).toEqual(['c1']);
  });

  it('keeps one bucket per connection', async () => {
    const { gate } = setup();
    for (let i = 0; i < 4; i++) await gate('c1');
    expect(await gate('c2')).toBeUndefined();
  });
});
