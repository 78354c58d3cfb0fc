/**
 * Builds the browser client as an installable package into `client/dist/`: one ES module
 * bundle (`herald-client.js`, ES2020, no dependencies) and its type declarations
 * (`types/`, emitted by tsc from the same sources). `npm pack` in `client/` runs it first.
 * Run directly (`npm run build` in `client/`) it builds and says where.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const CLIENT_DIR = fileURLToPath(new URL('.', import.meta.url));
export const PACKAGE_DIST = join(CLIENT_DIR, 'dist');

export async function buildPackage(): Promise<{ files: string[] }> {
  await rm(PACKAGE_DIST, { recursive: true, force: true });
  await build({
    absWorkingDir: CLIENT_DIR,
    entryPoints: ['herald-client.ts'],
    outfile: join(PACKAGE_DIST, 'herald-client.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    sourcemap: true,
    logLevel: 'silent',
  });
  const typescript = createRequire(import.meta.url).resolve('typescript/package.json');
  const tsc = join(dirname(typescript), 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.package.json'], {
    cwd: CLIENT_DIR,
  });
  const files = await listFiles(PACKAGE_DIST);
  await Promise.all(
    files.filter((file) => file.endsWith('.d.ts')).map((file) => withJsExtensions(file)),
  );
  return { files };
}

/**
 * The sources import `./emitter`, as a bundler resolves it; a consumer's `nodenext`
 * resolution needs `./emitter.js` in the declarations.
 */
async function withJsExtensions(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const fixed = text.replace(
    /(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)\2/g,
    (whole, lead: string, quote: string, spec: string) =>
      /\.(js|mjs|cjs|json)$/.test(spec) ? whole : `${lead}${quote}${spec}.js${quote}`,
  );
  if (fixed !== text) await writeFile(file, fixed);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files } = await buildPackage();
  console.log(`built ${files.length} files into ${PACKAGE_DIST}`);
}
