/**
 * Cold start: each Lambda entry that `infra/` deploys, bundled as CDK bundles it (the
 * esbuild options and hooks of `HERALD_BUNDLING`, through esbuild's JS API and the same
 * shell hooks), its size, and its module initialisation time in a fresh Node process
 * (median of N), next to the same handler bundled without minification and tree-shaking.
 *
 * Two more builds put the numbers beside what came before: "SDK external", the handler as
 * it shipped while the AWS SDK was left to the runtime's copy, and "SDK bundled", the
 * reference the shipped build is held to (within 1.15× of its init): the previous options
 * (target node22) with the SDK inside.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { HERALD_BUNDLING, LAZY_MODULES } from '#infra/constructs/herald-function';
import { median } from './stats';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

export type Variant = 'optimised' | 'unoptimised' | 'sdkExternal' | 'sdkBundled';

export interface ColdStartRow {
  handler: string;
  /** index.mjs as CDK builds it. */
  bytes: number;
  mapBytes: number;
  unoptimisedBytes: number;
  sdkBundledBytes: number;
  /** The bundle with the AWS SDK left to the runtime, as Herald shipped it before. */
  sdkExternalBytes: number;
  /** The bundle with the change proposed for zod's import (see `zodNamespaceImport`). */
  proposedBytes: number;
  /** Median module initialisation, ms, per variant. */
  initMs: Record<Variant, number>;
  /** Median RSS of the fresh process once the optimised bundle is loaded, MB. */
  initRssMb: number;
  samples: Record<Variant, number>;
}

export interface ColdStartResults {
  rows: ColdStartRow[];
  /** Modules bundled beside the handlers (LAZY_MODULES), bytes. */
  lazyModules: Array<{ name: string; bytes: number }>;
  runs: number;
  /** The environment each fresh process starts with (as the deployed function's). */
  environment: Record<string, string>;
}

/** The entries `infra/` deploys: every `handlerName: '…'` in its constructs. */
export function deployedHandlers(constructsDir = join(REPO_ROOT, 'infra', 'constructs')): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(constructsDir)) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(constructsDir, file), 'utf8');
    for (const match of text.matchAll(/handlerName:\s*'([a-z0-9-]+)'/g))
      names.add(match[1] as string);
  }
  return [...names].sort();
}

/** esbuild options equal to what CDK's NodejsFunction passes for `HERALD_BUNDLING`. */
export function cdkEsbuildOptions(entry: string, outfile: string): BuildOptions {
  const bundling = HERALD_BUNDLING;
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: bundling.target,
    format: bundling.format,
    outfile,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: [...bundling.externalModules],
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    metafile: true,
    logLevel: 'error',
  };
}

/**
 * The reference the shipped build's init is held to: the handler with the AWS SDK inside,
 * built with the options Herald used before (target node22), as the bench's "SDK bundled"
 * column measured it then.
 */
export function sdkBundledReference(entry: string, outfile: string): BuildOptions {
  return { ...cdkEsbuildOptions(entry, outfile), target: 'node22', external: [...LAZY_MODULES] };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * A directory the bundles run from: `node_modules/@aws-sdk` points at the repository's
 * (as the runtime provides its SDK) and lazy modules sit beside the bundle, as in the asset.
 */
function prepareRoot(root: string): void {
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules', '@aws-sdk'), join(root, 'node_modules', '@aws-sdk'));
}

async function buildLazyModules(root: string, how: 'hooks' | 'unminified'): Promise<void> {
  if (how === 'hooks') {
    // Exactly the shell commands CDK runs after bundling.
    for (const command of HERALD_BUNDLING.commandHooks.afterBundling(REPO_ROOT, root)) {
      execFileSync('bash', ['-c', command], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    return;
  }
  for (const name of LAZY_MODULES) {
    const dir = join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: [name],
      absWorkingDir: REPO_ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: HERALD_BUNDLING.target,
      minify: false,
      treeShaking: false,
      mainFields: [...HERALD_BUNDLING.mainFields],
      external: ['@aws-sdk/*'],
      banner: { js: HERALD_BUNDLING.banner },
      outfile: join(dir, 'index.mjs'),
      logLevel: 'error',
    });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name, type: 'module', exports: './index.mjs' }),
    );
  }
}

/**
 * Herald's sources as they would be with `import * as z from 'zod'` (zod's documented
 * form) instead of `import { z } from 'zod'`: the named import is a namespace object
 * esbuild cannot tree-shake, so every zod locale lands in the bundle.
 */
export const zodNamespaceImport: Plugin = {
  name: 'zod-namespace-import',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]functions[\\/].*\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(
        /import \{ z \} from 'zod';/g,
        "import * as z from 'zod';",
      ),
      loader: 'ts',
    }));
  },
};

/** A fresh Node process importing `file`: how long the import took, and the RSS after it. */
async function initTime(
  file: string,
  env: Record<string, string>,
): Promise<{ ms: number; rssMb: number }> {
  const url = JSON.stringify(pathToFileURL(file).href);
  const script = [
    'const started = performance.now();',
    `const loaded = await import(${url});`,
    'const ms = performance.now() - started;',
    // A bundle that loads but exports no handler would be timed for nothing.
    "if (loaded.handler !== undefined && typeof loaded.handler !== 'function') process.exit(3);",
    'process.stdout.write(JSON.stringify({ ms, rssMb: process.memoryUsage().rss / 2 ** 20 }));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env,
    cwd: dirname(file),
  });
  const measured = JSON.parse(stdout) as { ms: number; rssMb: number };
  if (!Number.isFinite(measured.ms)) throw new Error(`no timing from ${file}: ${stdout}`);
  return measured;
}

/** The deployed function's environment, minus what only matters at invocation. */
function lambdaEnvironment(handler: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `herald-${handler}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    // As HeraldFunction sets them; tracing is on (X-Ray active), so the tracer loads.
    POWERTOOLS_SERVICE_NAME: `herald-${handler}`,
    POWERTOOLS_METRICS_NAMESPACE: 'Herald',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export async function benchColdStart(options: {
  runs: number;
  /** Runs of the previous build (SDK external); 0 leaves it out. */
  extraRuns: number;
  log: (message: string) => void;
}): Promise<ColdStartResults> {
  const { runs, extraRuns, log } = options;
  const handlers = deployedHandlers();
  const root = mkdtempSync(join(tmpdir(), 'herald-cold-start-'));
  try {
    const roots: Record<Variant, string> = {
      optimised: join(root, 'optimised'),
      unoptimised: join(root, 'unoptimised'),
      sdkExternal: join(root, 'sdk-external'),
      sdkBundled: join(root, 'sdk-bundled'),
    };
    for (const dir of Object.values(roots)) prepareRoot(dir);
    await buildLazyModules(roots.optimised, 'hooks');
    await buildLazyModules(roots.unoptimised, 'unminified');
    await buildLazyModules(roots.sdkExternal, 'hooks');
    await buildLazyModules(roots.sdkBundled, 'hooks');

    const rows: ColdStartRow[] = [];
    const files: Record<string, Partial<Record<Variant, string>>> = {};
    for (const handler of handlers) {
      const entry = join(REPO_ROOT, 'functions', 'handlers', `${handler}.ts`);
      const optimised = join(roots.optimised, handler, 'index.mjs');
      await build(cdkEsbuildOptions(entry, optimised));
      const unoptimised = join(roots.unoptimised, handler, 'index.mjs');
      await build({ ...cdkEsbuildOptions(entry, unoptimised), minify: false, treeShaking: false });
      const sdkExternal = join(roots.sdkExternal, handler, 'index.mjs');
      await build({
        ...cdkEsbuildOptions(entry, sdkExternal),
        external: ['@aws-sdk/*', ...LAZY_MODULES],
      });
      const sdkBundled = join(roots.sdkBundled, handler, 'index.mjs');
      await build(sdkBundledReference(entry, sdkBundled));
      const proposed = await build({
        ...cdkEsbuildOptions(entry, join(root, 'proposed', handler, 'index.mjs')),
        write: false,
        plugins: [zodNamespaceImport],
      });
      const proposedBytes =
        proposed.outputFiles?.find((file) => file.path.endsWith('.mjs'))?.contents.length ?? 0;
      files[handler] = { optimised, unoptimised, sdkBundled, sdkExternal };
      rows.push({
        handler,
        bytes: fileSize(optimised),
        mapBytes: fileSize(`${optimised}.map`),
        unoptimisedBytes: fileSize(unoptimised),
        sdkBundledBytes: fileSize(sdkBundled),
        sdkExternalBytes: fileSize(sdkExternal),
        proposedBytes,
        initMs: { optimised: 0, unoptimised: 0, sdkExternal: 0, sdkBundled: 0 },
        initRssMb: 0,
        samples: { optimised: 0, unoptimised: 0, sdkExternal: 0, sdkBundled: 0 },
      });
    }
    log(`cold start: bundled ${handlers.length} handlers`);

    // Interleaved, so that whatever else the machine does spreads over every variant alike.
    const samples: Record<string, Record<Variant, number[]>> = Object.fromEntries(
      handlers.map((handler) => [
        handler,
        { optimised: [], unoptimised: [], sdkExternal: [], sdkBundled: [] },
      ]),
    );
    const rss: Record<string, number[]> = Object.fromEntries(handlers.map((h) => [h, []]));
    for (let i = 0; i < runs; i++) {
      for (const handler of handlers) {
        const env = lambdaEnvironment(handler);
        const mine = samples[handler] as Record<Variant, number[]>;
        // The reference every run, as the 1.15× target compares with it; the old build less often.
        const variants: Variant[] =
          i < extraRuns
            ? ['optimised', 'unoptimised', 'sdkBundled', 'sdkExternal']
            : ['optimised', 'unoptimised', 'sdkBundled'];
        for (const variant of variants) {
          const measured = await initTime(files[handler]?.[variant] as string, env);
          mine[variant].push(measured.ms);
          if (variant === 'optimised') rss[handler]?.push(measured.rssMb);
        }
      }
    }
    for (const row of rows) {
      row.initRssMb = median(rss[row.handler] ?? []) ?? 0;
      for (const variant of ['optimised', 'unoptimised', 'sdkExternal', 'sdkBundled'] as const) {
        const values = samples[row.handler]?.[variant] ?? [];
        row.initMs[variant] = median(values) ?? 0;
        row.samples[variant] = values.length;
      }
    }
    const lazyModules = LAZY_MODULES.map((name) => ({
      name,
      bytes: fileSize(join(roots.optimised, 'node_modules', name, 'index.mjs')),
    }));
    return { rows, lazyModules, runs, environment: lambdaEnvironment('<name>') };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
