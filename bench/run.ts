/**
 * `npm run bench` (`--quick` for a run under a minute): fan-out throughput, end to end on
 * the local stack, cold starts and the cost model, each next to its baseline; prints the
 * tables and writes BENCHMARKS.md.
 *
 *   npm run bench -- [--quick] [--latency 15] [--only end-to-end,cold-start] [--out BENCHMARKS.md]
 *
 * The fan-out section always runs: the broadcast model and the cost model are built on it.
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
writeFileSync(values.out as string, renderReport(report));
process.stderr.write(
  `wrote ${values.out} (load average now ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')})\n`,
);
