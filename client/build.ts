/**
 * Bundles the demo page in memory for the local launcher to serve: the HTML at
 * `DEMO_PATHS.html`, the script at `DEMO_PATHS.js`, the stylesheet at `DEMO_PATHS.css`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where the page expects its assets (index.html links them by these paths). */
export const DEMO_PATHS = { html: '/', js: '/demo.js', css: '/demo.css' } as const;

export const DEMO_CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

export interface DemoBundle {
  html: string;
  js: string;
  css: string;
  /** Source files in the bundle, relative to `client/`: proof that no server code got in. */
  inputs: string[];
}

const CLIENT_DIR = fileURLToPath(new URL('.', import.meta.url));

export async function buildDemo(): Promise<DemoBundle> {
  const result = await build({
    absWorkingDir: CLIENT_DIR,
    entryPoints: ['demo/demo.ts'],
    bundle: true,
    write: false,
    // A classic script: the page loads it with `defer`, no module loader needed.
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    metafile: true,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]?.text;
  if (js === undefined) throw new Error('esbuild produced no output for the demo');
  const [html, css] = await Promise.all([
    readFile(new URL('demo/index.html', import.meta.url), 'utf8'),
    readFile(new URL('demo/demo.css', import.meta.url), 'utf8'),
  ]);
  return { html, js, css, inputs: Object.keys(result.metafile.inputs) };
}
