/**
 * `npm run bench` (`--quick` for a run under a minute): fan-out throughput, end to end on
 * the local stack, cold starts and the cost model, each next to its baseline; prints the
 * tables and writes BENCHMARKS.md.
 *
 *   npm run bench -- [--quick] [--latency 15] [--only end-to-end,cold-start] [--out BENCHMARKS.md]
 *
 * The fan-out section always runs: the broadcast model and the cost model are built on it.
 * The inbox section (bulk actions and filtered lists over 10,000 notifications, `--quick`
 * 1,000; `bench/inbox-bulk.ts`) runs by default and with `--only inbox`.
 */

// Before anything loads Powertools or the SDK: quiet handlers, no tracing, no metrics flush.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
});

export {};

const { writeFileSync } = await import('node:fs');
const os = await import('node:os');
const { parseArgs } = await import('node:util');
const { spawnSync } = await import('node:child_process');
const { runBenchmarks } = await import('./suite');
const { renderReport, renderSummary } = await import('./report');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    latency: { type: 'string', default: '15' },
    only: { type: 'string' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
  },
});

const latencyMs = Number(values.latency);
if (!Number.isFinite(latencyMs) || latencyMs < 0)
  throw new Error('--latency must be a number of ms');
const sections = new Set(
  (values.only ?? 'end-to-end,cold-start').split(',').map((each) => each.trim()),
);
const command = [
  'npm run bench',
  ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
].join(' ');

const report = await runBenchmarks({
  quick: values.quick === true,
  latencyMs,
  sections,
  command,
  log: (message) => process.stderr.write(`${message}\n`),
});
process.stdout.write(`${renderSummary(report)}\n`);
const inbox = values.only === undefined || sections.has('inbox') ? inboxSection() : '';
writeFileSync(values.out as string, renderReport(report) + inbox);
process.stderr.write(
  `wrote ${values.out} (load average now ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')})\n`,
);

/** Runs the inbox bench in a process of its own (its own DynamoDB Local) and frames its table. */
function inboxSection(): string {
  const items = values.quick === true ? '1000' : '10000';
  process.stderr.write(`inbox: bulk actions and filters over ${items} notifications\n`);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/inbox-bulk.ts', '--items', items],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (run.status !== 0) throw new Error(`the inbox bench failed (exit ${run.status})`);
  const table = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .join('\n');
  return [
    '',
    '## 6. Inbox bulk actions and filters',
    '',
    `${items} notifications of one user on DynamoDB Local, one in ten tagged \`billing\`; requests`,
    'and capacity units counted around the real `DynamoOwnerInbox` (`bench/inbox-bulk.ts`).',
    'DynamoDB Local charges a Query of a local index about one read unit per entry returned;',
    'AWS charges the summed size rounded up to 4 KB, so read units per item here are an upper bound.',
    '',
    table,
    '',
  ].join('\n');
}
