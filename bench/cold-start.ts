/**
 * Cold start: each Lambda entry that `infra/` deploys, bundled as CDK bundles it (the
 * esbuild options and hooks of `HERALD_BUNDLING`, through esbuild's JS API and the same
 * shell hooks), its size, and its module initialisation time in a fresh Node process
 * (median of N), next to the same handler bundled without minification and tree-shaking.
 *
 * Two more measurements explain the numbers: the "SDK floor", the time to import just the
 * packages the bundle leaves to the runtime (the AWS SDK), which no bundling option can
 * shorten; and the same handler with the SDK bundled in, which shows what that would buy.
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
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { HERALD_BUNDLING, LAZY_MODULES } from '#infra/constructs/herald-function';
import { median } from './stats';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

export type Variant = 'optimised' | 'unoptimised' | 'sdkFloor' | 'sdkBundled';

export interface ColdStartRow {
  handler: string;
  /** index.mjs as CDK builds it. */
  bytes: number;
  mapBytes: number;
  unoptimisedBytes: number;
  sdkBundledBytes: number;
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

/** The packages a bundle imports at its top level and leaves to the runtime. */
function staticExternals(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (
        imported.external &&
        imported.kind === 'import-statement' &&
        !imported.path.startsWith('node:')
      ) {
        found.add(imported.path);
      }
    }
  }
  return [...found].sort();
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
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
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
  /** Runs of the explanatory variants (SDK floor, SDK bundled); 0 leaves them out. */
  extraRuns: number;
  log: (message: string) => void;
}): Promise<ColdStartResults> {
  const { runs, extraRuns, log } = options;
  const handlers = deployedHandlers();
  const root = mkdtempSync(join(tmpdir(), 'herald-cold-start-'));
  try {
    const roots: Record<'optimised' | 'unoptimised' | 'sdkBundled', string> = {
      optimised: join(root, 'optimised'),
      unoptimised: join(root, 'unoptimised'),
      sdkBundled: join(root, 'sdk-bundled'),
    };
    for (const dir of Object.values(roots)) prepareRoot(dir);
    await buildLazyModules(roots.optimised, 'hooks');
    await buildLazyModules(roots.unoptimised, 'unminified');
    await buildLazyModules(roots.sdkBundled, 'hooks');

    const rows: ColdStartRow[] = [];
    const files: Record<string, Partial<Record<Variant, string>>> = {};
    for (const handler of handlers) {
      const entry = join(REPO_ROOT, 'functions', 'handlers', `${handler}.ts`);
      const optimised = join(roots.optimised, handler, 'index.mjs');
      const result = await build(cdkEsbuildOptions(entry, optimised));
      const unoptimised = join(roots.unoptimised, handler, 'index.mjs');
      await build({ ...cdkEsbuildOptions(entry, unoptimised), minify: false, treeShaking: false });
      const sdkBundled = join(roots.sdkBundled, handler, 'index.mjs');
      await build({
        ...cdkEsbuildOptions(entry, sdkBundled),
        external: HERALD_BUNDLING.externalModules.filter((name) => !name.startsWith('@aws-sdk')),
      });
      const proposed = await build({
        ...cdkEsbuildOptions(entry, join(root, 'proposed', handler, 'index.mjs')),
        write: false,
        plugins: [zodNamespaceImport],
      });
      const proposedBytes =
        proposed.outputFiles?.find((file) => file.path.endsWith('.mjs'))?.contents.length ?? 0;
      // The floor: the same runtime-provided packages, imported in the same order.
      const floor = join(roots.optimised, handler, 'floor.mjs');
      writeFileSync(
        floor,
        staticExternals(result.metafile as Metafile)
          .map((name) => `import '${name}';`)
          .join('\n'),
      );
      files[handler] = { optimised, unoptimised, sdkBundled, sdkFloor: floor };
      rows.push({
        handler,
        bytes: fileSize(optimised),
        mapBytes: fileSize(`${optimised}.map`),
        unoptimisedBytes: fileSize(unoptimised),
        sdkBundledBytes: fileSize(sdkBundled),
        proposedBytes,
        initMs: { optimised: 0, unoptimised: 0, sdkFloor: 0, sdkBundled: 0 },
        initRssMb: 0,
        samples: { optimised: 0, unoptimised: 0, sdkFloor: 0, sdkBundled: 0 },
      });
    }
    log(`cold start: bundled ${handlers.length} handlers`);

    // Interleaved, so that whatever else the machine does spreads over every variant alike.
    const samples: Record<string, Record<Variant, number[]>> = Object.fromEntries(
      handlers.map((handler) => [
        handler,
        { optimised: [], unoptimised: [], sdkFloor: [], sdkBundled: [] },
      ]),
    );
    const rss: Record<string, number[]> = Object.fromEntries(handlers.map((h) => [h, []]));
    for (let i = 0; i < runs; i++) {
      for (const handler of handlers) {
        const env = lambdaEnvironment(handler);
        const mine = samples[handler] as Record<Variant, number[]>;
        const variants: Variant[] =
          i < extraRuns
            ? ['optimised', 'unoptimised', 'sdkFloor', 'sdkBundled']
            : ['optimised', 'unoptimised'];
        for (const variant of variants) {
          const measured = await initTime(files[handler]?.[variant] as string, env);
          mine[variant].push(measured.ms);
          if (variant === 'optimised') rss[handler]?.push(measured.rssMb);
        }
      }
    }
    for (const row of rows) {
      row.initRssMb = median(rss[row.handler] ?? []) ?? 0;
      for (const variant of ['optimised', 'unoptimised', 'sdkFloor', 'sdkBundled'] as const) {
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
