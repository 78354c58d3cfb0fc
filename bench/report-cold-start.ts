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
      `Each entry \`infra/\` deploys, bundled with \`HERALD_BUNDLING\` (the options and hooks \`HeraldFunction\` gives CDK) through esbuild's JS API; init = \`await import()\` of the bundle in a fresh \`node\` with the deployed function's environment (tracing on, \`NODE_OPTIONS=--enable-source-maps\`), median of ${cold.runs}. The AWS SDK is bundled into each handler (target node24). Unoptimised: the same options without minification and tree-shaking. SDK external: the handler as it shipped before, the AWS SDK left to the runtime's copy. SDK bundled: the reference the init target is measured against, the previous options (target node22) with the SDK inside; ratio = init ÷ SDK bundled init, target ≤ 1.15. Lazily loaded modules shipped beside each bundle: ${cold.lazyModules.map((m) => `\`${m.name}\` ${kb(m.bytes)} KB`).join(', ')}.`,
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
          'SDK external (KB)',
          'SDK external init (ms)',
          'SDK bundled (KB)',
          'SDK bundled init (ms)',
          'Init ÷ SDK bundled',
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
          kb(row.sdkExternalBytes),
          row.samples.sdkExternal > 0 ? round(row.initMs.sdkExternal, 1) : '—',
          kb(row.sdkBundledBytes),
          row.samples.sdkBundled > 0 ? round(row.initMs.sdkBundled, 1) : '—',
          row.samples.sdkBundled > 0 ? round(row.initMs.optimised / row.initMs.sdkBundled, 2) : '—',
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
