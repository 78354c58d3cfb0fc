import { describe, expect, it } from 'vitest';
import { costPerMillion, FLOOR_USAGE } from '#bench/cost-model';
import type { FanOutRow } from '#bench/fan-out-scenario';
import { renderReport } from '#bench/report';
import type { BenchReport } from '#bench/report-model';

const row = (system: FanOutRow['system'], k: number): FanOutRow => ({
  system,
  concurrency: system === 'herald' ? 64 : 50,
  shape: 'topic',
  k,
  notifications: 1,
  invocations: 1,
  seconds: 2,
  delivered: k,
  deliveriesPerSecond: k / 2,
  bound: 4266.67,
  dynamo: {
    requests: system === 'herald' ? { Query: 1 } : { Scan: 1 },
    readUnits: 1,
    writeUnits: 2,
  },
  queriesPerPage: 1,
  walkQueries: 0,
  cpuMs: 100,
  peakRssMb: 120,
  rssGrowthMb: 10,
  peakHeapMb: 60,
});

function sampleReport(): BenchReport {
  const floor = costPerMillion(FLOOR_USAGE);
  return {
    command: 'npm run bench -- --quick',
    quick: true,
    startedAt: '2026-11-23T12:00:00.000Z',
    seconds: 42,
    machine: { cpus: 2, model: 'Test CPU', memoryGb: 8, platform: 'Linux', node: 'v20.20.2' },
    loadBefore: [1.5, 1, 1],
    loadAfter: [1, 1, 1],
    latencyMs: 15,
    fanOut: {
      rows: [row('herald', 1000), row('naive', 1000)],
      single: {
        notifications: 10,
        batchSize: 10,
        invocations: 1,
        seconds: 0.1,
        cpuMs: 40,
        dynamo: { requests: { PutItem: 20 }, readUnits: 10, writeUnits: 30 },
        frameBytes: 300,
      },
      memory: { k: 1000, heapLimitMb: 200, topicPeakRssMb: 90, usersPeakRssMb: 110 },
      seedSeconds: 1,
      pageQueryMs: 20,
      walkMsPerThousandKeys: 4,
    },
    broadcast: {
      split: {
        connections: 100_000,
        pageSize: 1000,
        invocations: [
          {
            parent: -1,
            afterPosting: false,
            sentAtMs: 0,
            postsAtMs: 20,
            tailMs: 0,
            connections: 1000,
          },
        ],
        continuations: 0,
        delivered: 100_000,
        duplicates: 0,
        queries: 1,
        walks: 0,
        walkedKeys: 0,
        sends: 0,
      },
      timings: { pageQueryMs: 20, walkMsPerThousandKeys: 4, sendMs: 10, sendBatchMs: 20 },
      pickupMs: 100,
      batchSize: 10,
      accountRate: 10_000,
      scenarios: [
        {
          label: 'page 1,000',
          invocationRate: 4266,
          result: { seconds: 11, floorSeconds: 10, peakInvocations: 3, lastReadySeconds: 0.8 },
        },
      ],
    },
    cost: { inApp: floor, inAppUnbatched: floor, floor, assumptions: ['an assumption'] },
    targets: [
      { name: 'Target A', goal: '< 1', measured: '2', met: false, margin: '1 over' },
      { name: 'Target B', goal: '< 1', measured: '0', met: true, margin: 'met' },
    ],
    findings: ['**A finding.**'],
  };
}

describe('renderReport', () => {
  it('writes the machine, the command, every section, the targets and the findings', () => {
    const markdown = renderReport(sampleReport());
    expect(markdown).toContain('`npm run bench -- --quick`');
    expect(markdown).toContain('**quick mode**');
    expect(markdown).toContain('| CPU | 2 × Test CPU |');
    expect(markdown).toContain('| Node | v20.20.2 |');
    expect(markdown).toContain('| Target A | < 1 | 2 | **no** | 1 over |');
    expect(markdown).toContain('| Target B | < 1 | 0 | yes | met |');
    for (const heading of [
      '## 1. Fan-out throughput',
      '## 2. End to end on the local stack',
      '## 3. Cold start',
      '## 4. Cost model',
      '## Findings',
    ]) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain('**A finding.**');
    expect(markdown).toContain('- an assumption');
    expect(markdown.endsWith('\n')).toBe(true);
  });

  it('says the machine was shared when it was busy at the start', () => {
    expect(renderReport(sampleReport())).toContain('The machine was shared');
    const idle = { ...sampleReport(), loadBefore: [0.2, 0.2, 0.2] };
    expect(renderReport(idle)).not.toContain('The machine was shared');
  });

  it('prints the per-notification DynamoDB requests and the share of the bound', () => {
    const markdown = renderReport(sampleReport());
    expect(markdown).toContain('| Herald | 64 | one topic | 1000 |');
    expect(markdown).toContain('| 12% |');
    expect(markdown).toContain('Scan 1');
    expect(markdown).toContain(
      'with a 200 MB V8 heap: peak RSS 90 MB (one topic) and 110 MB (K users)',
    );
  });

  it('sets change events beside notifications when the run measured them', () => {
    const sample = sampleReport();
    expect(renderReport(sample)).not.toContain('## 5. Change events');
    const floor = sample.cost.floor;
    const withChanges: BenchReport = {
      ...sample,
      fanOut: {
        ...sample.fanOut,
        changes: {
          single: {
            ...sample.fanOut.single,
            dynamo: { requests: { UpdateItem: 10, Query: 10 }, readUnits: 5, writeUnits: 10 },
          },
          burst: {
            events: 1000,
            batchSize: 10,
            invocations: 100,
            seconds: 2,
            cpuMs: 500,
            dynamo: { requests: { UpdateItem: 160 }, readUnits: 0, writeUnits: 160 },
            posts: 3,
          },
        },
      },
      cost: { ...sample.cost, changes: { single: floor, burst: floor } },
    };
    const markdown = renderReport(withChanges);
    expect(markdown).toContain('## 5. Change events beside notifications');
    expect(markdown).toContain('| Inbox writes per event | 1 | 0 | 0 |');
    expect(markdown).toContain(
      '| Pushes (frames to the connection) | 10 | 10 | 3 (0.3% of events) |',
    );
    expect(markdown).toContain('| Deliveries per second | 100 | 100 | 3 push(es) in 2 s |');
    expect(markdown).toContain('UpdateItem 0.16');
  });
});
