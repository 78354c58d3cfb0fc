import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HERALD_BUNDLING, LAZY_MODULES } from '#infra/constructs/herald-function';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('HERALD_BUNDLING', () => {
  it('bundles the AWS SDK and leaves only the lazily loaded modules out of index.mjs', () => {
    expect(HERALD_BUNDLING.externalModules).toEqual([...LAZY_MODULES]);
    expect(HERALD_BUNDLING.target).toBe('node24');
    expect(LAZY_MODULES).toContain('@aws-lambda-powertools/tracer');
  });

  it('bundles each lazily loaded module into the asset’s node_modules after bundling', () => {
    const out = mkdtempSync(join(tmpdir(), 'herald-asset-'));
    try {
      for (const command of HERALD_BUNDLING.commandHooks.afterBundling(REPO_ROOT, out)) {
        execFileSync('bash', ['-c', command], { cwd: REPO_ROOT });
      }
      for (const name of LAZY_MODULES) {
        const dir = join(out, 'node_modules', name);
        expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual({
          name,
          type: 'module',
          exports: './index.mjs',
        });
        const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
        expect(code.startsWith("import { createRequire } from 'module';")).toBe(true);
        // Minified, with the X-Ray SDK inside: a real bundle, not a stub.
        expect(statSync(join(dir, 'index.mjs')).size).toBeGreaterThan(50_000);
        expect(code).toContain('AWSXRay');
      }
      expect(existsSync(join(out, 'index.mjs'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
