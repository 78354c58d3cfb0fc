import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { productionApp } from '#test/support/production-app';

/**
 * cfn-lint (AWS's CloudFormation linter, a Python tool) on both synthesized templates.
 * Installed by .ci/run where the machine can; where it cannot, this test is skipped and says so.
 */
const INSTALLED = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;

interface Match {
  Level: string;
  Rule: { Id: string };
  Message: string;
  Filename: string;
}

const outdir = mkdtempSync(join(tmpdir(), 'herald-cfn-lint-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cfn-lint', () => {
  it.skipIf(!INSTALLED)(
    INSTALLED
      ? 'finds no error and no warning in either template'
      : 'SKIPPED: cfn-lint is not installed (apt-get install cfn-lint, or pip install cfn-lint)',
    async () => {
      const { app } = productionApp({ outdir });
      const assembly = app.synth();
      const templates = ['HeraldData', 'HeraldApp'].map((name) =>
        join(assembly.directory, assembly.getStackByName(name).templateFile),
      );
      // Exit status 2/4/6 means errors/warnings were found; the JSON says which.
      const output = await promisify(execFile)('cfn-lint', ['--format', 'json', ...templates], {
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; code?: number }) => {
        if (typeof error.stdout !== 'string' || error.stdout === '') throw error;
        return { stdout: error.stdout };
      });
      const matches = JSON.parse(output.stdout) as Match[];
      const findings = matches.map(
        (m) => `${m.Level} ${m.Rule.Id} ${m.Filename.split('/').pop()}: ${m.Message}`,
      );
      expect(findings).toEqual([]);
    },
    300_000,
  );
});
