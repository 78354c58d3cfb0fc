import { describe, expect, it } from 'vitest';
import { evaluateTargets, type TargetFacts } from '#bench/targets';

const facts = (overrides: Partial<TargetFacts> = {}): TargetFacts => ({
  fanOut: {
    k: 10_000,
    topic: [{ concurrency: 64, ratio: 0.95 }],
    memoryMb: 100,
    memoryBasis: 'test',
    scans: 0,
    queriesPerPage: 1,
  },
  endToEnd: { clients: 1000, rate: 200, expected: 5000, delivered: 5000, p99: 80 },
  coldStart: {
    rows: [{ handler: 'fan-out', bytes: 600 * 1024, initRatio: 0.4, initOverSdkBundled: 1.1 }],
  },
  cost: { perMillion: 3.0, floorPerMillion: 2.75 },
  broadcast: { seconds: 11, floorSeconds: 10 },
  ...overrides,
});

const byName = (targets: ReturnType<typeof evaluateTargets>, prefix: string) =>
  targets.filter((target) => target.name.startsWith(prefix));

describe('evaluateTargets', () => {
  it('meets every target when every measurement is within its limit', () => {
    const targets = evaluateTargets(facts());
    expect(targets.every((target) => target.met)).toBe(true);
    expect(targets.map((t) => t.name)).toContain('Fan-out throughput, K = 10,000, C = 64');
  });

  it('judges each limit at its edge', () => {
    const targets = evaluateTargets(
      facts({
        fanOut: {
          k: 10_000,
          topic: [{ concurrency: 64, ratio: 0.89 }],
          memoryMb: 256,
          memoryBasis: 'test',
          scans: 1,
          queriesPerPage: 1.1,
        },
        endToEnd: { clients: 1000, rate: 200, expected: 5000, delivered: 4999, p99: 100 },
        coldStart: {
          rows: [
            { handler: 'fan-out', bytes: 1024 * 1024, initRatio: 0.51, initOverSdkBundled: 1.16 },
          ],
        },
        cost: { perMillion: 2.75 * 1.16, floorPerMillion: 2.75 },
        broadcast: { seconds: 12.1, floorSeconds: 10 },
      }),
    );
    expect(targets.filter((target) => target.met)).toEqual([]);
    expect(byName(targets, 'End to end p99')[0]?.margin).toBe('1.0× the limit');
    expect(byName(targets, 'Bundle size')[0]?.margin).toBe('0 KB over');
    expect(byName(targets, 'Init vs SDK bundled')[0]?.measured).toBe('1.16×');
  });

  it('holds init to 1.15× the SDK-bundled reference, and leaves it out where unmeasured', () => {
    const at = (initOverSdkBundled?: number) =>
      byName(
        evaluateTargets(
          facts({
            coldStart: {
              rows: [{ handler: 'fan-out', bytes: 1, initRatio: 0.4, initOverSdkBundled }],
            },
          }),
        ),
        'Init vs SDK bundled',
      );
    expect(at(1.15)[0]?.met).toBe(true);
    expect(at(1.151)[0]?.met).toBe(false);
    expect(at(undefined)).toEqual([]);
  });

  it('accepts exactly 15% over the cost floor and exactly 12 s for the broadcast', () => {
    const targets = evaluateTargets(
      facts({
        cost: { perMillion: 2.75 * 1.15, floorPerMillion: 2.75 },
        broadcast: { seconds: 12, floorSeconds: 10 },
      }),
    );
    expect(byName(targets, 'Cost')[0]?.met).toBe(true);
    expect(byName(targets, '100,000')[0]?.met).toBe(true);
  });

  it('leaves out sections that did not run', () => {
    const targets = evaluateTargets(facts({ endToEnd: undefined, coldStart: undefined }));
    expect(byName(targets, 'End to end')).toEqual([]);
    expect(byName(targets, 'Bundle size')).toEqual([]);
  });
});
