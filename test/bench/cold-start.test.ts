import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  cdkEsbuildOptions,
  deployedHandlers,
  sdkBundledReference,
  zodNamespaceImport,
} from '#bench/cold-start';
import { HERALD_BUNDLING, LAZY_MODULES } from '#infra/constructs/herald-function';

describe('deployedHandlers', () => {
  it('finds every handlerName the constructs deploy, once each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-constructs-'));
    try {
      writeFileSync(
        join(dir, 'a.ts'),
        "new HeraldFunction(this, 'A', { handlerName: 'fan-out' });",
      );
      writeFileSync(
        join(dir, 'b.ts'),
        "x({ handlerName: 'connect' }); y({ handlerName: 'authorizer' }); z({ handlerName: 'connect' });",
      );
      writeFileSync(join(dir, 'notes.md'), "handlerName: 'ignored'");
      expect(deployedHandlers(dir)).toEqual(['authorizer', 'connect', 'fan-out']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the fan-out among the repository’s constructs', () => {
    expect(deployedHandlers()).toContain('fan-out');
  });
});

describe('cdkEsbuildOptions', () => {
  it('passes esbuild what HeraldFunction passes CDK', () => {
    const options = cdkEsbuildOptions('entry.ts', 'out/index.mjs');
    expect(options).toMatchObject({
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: HERALD_BUNDLING.target,
      minify: HERALD_BUNDLING.minify,
      sourcemap: HERALD_BUNDLING.sourceMap,
      sourcesContent: HERALD_BUNDLING.sourcesContent,
      banner: { js: HERALD_BUNDLING.banner },
      mainFields: [...HERALD_BUNDLING.mainFields],
    });
    expect(options.external).toEqual([...HERALD_BUNDLING.externalModules]);
  });
});

describe('sdkBundledReference', () => {
  it('is the previous build (target node22) with the SDK inside, only lazy modules left out', () => {
    const options = sdkBundledReference('entry.ts', 'out/index.mjs');
    expect(options).toMatchObject({ target: 'node22', minify: true, format: 'esm' });
    expect(options.external).toEqual([...LAZY_MODULES]);
  });
});

describe('zodNamespaceImport', () => {
  it('rewrites the named zod import of Herald’s sources, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-zod-'));
    try {
      const functions = join(dir, 'functions');
      writeFileSync(join(dir, 'other.ts'), "import { z } from 'zod';\nexport const s = z;\n");
      mkdirSync(functions);
      writeFileSync(
        join(functions, 'schema.ts'),
        "import { z } from 'zod';\nexport const s = z;\n",
      );
      const transform = (entry: string) =>
        build({
          entryPoints: [entry],
          bundle: false,
          write: false,
          format: 'esm',
          plugins: [zodNamespaceImport],
          logLevel: 'silent',
        });
      const herald = await transform(join(functions, 'schema.ts'));
      expect(herald.outputFiles[0]?.text).toContain('import * as z from "zod"');
      const other = await transform(join(dir, 'other.ts'));
      expect(other.outputFiles[0]?.text).toContain('import { z } from "zod"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
