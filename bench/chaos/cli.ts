/**
 * `npm run chaos`: publishes notifications to users with several devices each under every
 * fault the local stack can inject, then prints whether Herald kept its promises, one row
 * per check. Exits non-zero when one did not. `npm run chaos -- --help` lists the flags.
 */

// Before anything loads Powertools or the SDK: quiet handlers, no tracing, no metrics flush.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

export {};

const { writeFile } = await import('node:fs/promises');
const { parseChaosArgs, USAGE } = await import('./options');
const { chaosTable } = await import('./report');
const { runChaos } = await import('./run');

async function main(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const options = parseChaosArgs(args);
  const result = await runChaos(options, (message) => console.error(message));
  const table = chaosTable(result);
  console.log(table);
  if (options.out) await writeFile(options.out, table);
  return result.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
