/** Section 3 of the report: each deployed handler's bundle and its cold start. */

import { kb, markdownTable, round } from './report-format';
import type { BenchReport } from './report-model';

export function coldStartSection(report: BenchReport): string[] {
  const out: string[] = [];
  const cold = report.coldStart;
  out.push('## 3. Cold start');
  out.push('');
  if (cold) {
    out.push(
      `Each entry \`infra/\` deploys, bundled with \`HERALD_BUNDLING\` (the options and hooks \`HeraldFunction\` gives CDK) through esbuild's JS API; init = \`await import()\` of the bundle in a fresh \`node\` with the deployed function's environment (tracing on, \`NODE_OPTIONS=--enable-source-maps\`), median of ${cold.runs}. Unoptimised: the same options without minification and tree-shaking. SDK floor: importing only the packages the bundle leaves to the runtime (the AWS SDK), which no bundling option shortens. SDK bundled: the same handler with the SDK inside (what AWS's SDK team recommends for cold starts), for comparison. Lazily loaded modules shipped beside each bundle: ${cold.lazyModules.map((m) => `\`${m.name}\` ${kb(m.bytes)} KB`).join(', ')}.`,
    );
    out.push('');
    out.push(
      markdownTable(
        [
          'Handler',
          'Bundle (KB)',
          'Map (KB)',
          'Init (ms)',
          'RSS after init (MB)',
          'Unoptimised (KB)',
          'Unoptimised init (ms)',
          'Init ratio',
          'SDK floor (ms)',
          'SDK bundled (KB)',
          'SDK bundled init (ms)',
          'With `import * as z` (KB)',
        ],
        cold.rows.map((row) => [
          row.handler,
          kb(row.bytes),
          kb(row.mapBytes),
          round(row.initMs.optimised, 1),
          round(row.initRssMb),
          kb(row.unoptimisedBytes),
          round(row.initMs.unoptimised, 1),
          round(row.initMs.optimised / row.initMs.unoptimised, 2),
          row.samples.sdkFloor > 0 ? round(row.initMs.sdkFloor, 1) : '—',
          kb(row.sdkBundledBytes),
          row.samples.sdkBundled > 0 ? round(row.initMs.sdkBundled, 1) : '—',
          kb(row.proposedBytes),
        ]),
      ),
    );
  } else {
    out.push('Not run.');
  }
  out.push('');
  return out;
}
