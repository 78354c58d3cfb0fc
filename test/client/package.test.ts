/**
 * The browser client as another app gets it: `npm pack` in client/ (its prepack builds the
 * bundle and declarations), the tarball installed offline into a fresh project, imported
 * there from an .mjs that calls the HTTP API, and a .ts consumer type-checked against the
 * shipped declarations under both `nodenext` and `bundler` resolution.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLIENT_DIR = fileURLToPath(new URL('../../client/', import.meta.url));
const TSC = join(
  dirname(fileURLToPath(import.meta.resolve('typescript/package.json'))),
  'bin',
  'tsc',
);
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

let work: string;
let project: string;
let tarball: string;
let packed: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'herald-client-package-'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', work, ...NPM_QUIET],
    { cwd: CLIENT_DIR },
  );
  // prepack's build logs before the JSON; the JSON is the last thing printed.
  const json = JSON.parse(stdout.slice(stdout.indexOf('\n['))) as [
    { filename: string; files: { path: string }[] },
  ];
  tarball = join(work, json[0].filename);
  packed = json[0].files.map((file) => file.path);

  project = join(work, 'consumer');
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--offline', tarball, ...NPM_QUIET], { cwd: project });
}, 180_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the @herald/client package', () => {
  it('packs the bundle and its declarations, and no sources', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/herald-client.js',
        'dist/types/client/herald-client.d.ts',
        'dist/types/client/inbox-api.d.ts',
        'dist/types/functions/core/model.d.ts',
      ]),
    );
    expect(packed.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports in another project and calls the HTTP API with the bearer token', async () => {
    const seen: { url: string; authorization: string }[] = [];
    const server = await listen((request, response) => {
      seen.push({ url: request.url ?? '', authorization: request.headers.authorization ?? '' });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ items: [{ id: 'n1', type: 't' }], cursor: 'c2' }));
    });
    try {
      const script = join(project, 'use.mjs');
      await writeFile(
        script,
        [
          "import { HeraldClient, httpClient, presenceTopic } from '@herald/client';",
          "const { inbox } = httpClient({ httpUrl: process.argv[2], token: 'tok-1' });",
          "const page = await inbox.list({ tag: 'billing', read: false, limit: 5 });",
          'let noSocket = false;',
          "try { new HeraldClient({ url: 'ws://localhost:1', token: 't' }); } catch (e) { noSocket = e instanceof TypeError; }",
          "console.log(JSON.stringify({ page, noSocket, topic: presenceTopic('bob') }));",
        ].join('\n'),
      );
      const { stdout } = await run(process.execPath, [script, serverUrl(server)], {
        cwd: project,
      });
      const out = JSON.parse(stdout) as { page: unknown; noSocket: boolean; topic: string };
      expect(out.page).toEqual({ items: [{ id: 'n1', type: 't' }], cursor: 'c2' });
      // Node 20 has no global WebSocket: the client says so instead of failing later.
      expect(out.noSocket).toBe(true);
      expect(out.topic).toBe('presence.bob');
      expect(seen).toEqual([
        { url: '/notifications?limit=5&tag=billing&read=false', authorization: 'Bearer tok-1' },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each(['nodenext', 'bundler'])(
    'type-checks a TypeScript consumer against the declarations (%s resolution)',
    async (resolution) => {
      const dir = join(project, resolution);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'consumer.ts'), CONSUMER_TS);
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023', 'DOM'],
            module: resolution === 'nodenext' ? 'nodenext' : 'preserve',
            moduleResolution: resolution,
            strict: true,
            noEmit: true,
            types: [],
          },
          files: ['consumer.ts'],
        }),
      );
      const result = await run(process.execPath, [TSC, '-p', dir], { cwd: project }).then(
        () => ({ ok: true, output: '' }),
        (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
      );
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
      // The package's own manifest names what the checker used.
      const manifest = JSON.parse(
        await readFile(join(project, 'node_modules/@herald/client/package.json'), 'utf8'),
      ) as { types: string };
      expect(manifest.types).toBe('./dist/types/client/herald-client.d.ts');
    },
    60_000,
  );
});

/**
 * Uses the typed methods; each `@ts-expect-error` fails the check if the declarations did
 * not load (everything `any`) or a signature went loose.
 */
const CONSUMER_TS = `
import {
  HeraldClient,
  type BadgeCounts,
  type BulkResult,
  type InboxNotification,
  type PreferencesView,
} from '@herald/client';

const client = new HeraldClient({
  url: 'wss://example.test/prod',
  httpUrl: 'https://api.example.test',
  token: async () => 'token',
});
export async function use(): Promise<void> {
  const page = await client.inbox.list({ tag: 'billing', archived: false, limit: 20 });
  const first: InboxNotification | undefined = page.items[0];
  const tags: string[] | undefined = first?.tags;
  const next: string | undefined = page.cursor;
  const { counts, unseen } = await client.inbox.counts({ all: {}, unread: { read: false } });
  const unreadTab: number = counts.unread;
  const badge: BadgeCounts = await client.inbox.snooze('id', new Date());
  const bulk: BulkResult = await client.inbox.bulk('archive', { tag: 'billing' }, { requestId: 'r1' });
  await client.inbox.interact('id', 0);
  await client.inbox.seenAll();
  const prefs: PreferencesView = await client.preferences.get();
  const locked: string[] = prefs.locked;
  client.on('notification', (n) => n.id);
  console.log(tags, next, unseen, unreadTab, badge.unread, bulk.changed, locked);
  // @ts-expect-error not a bulk action
  await client.inbox.bulk('explode', {});
  // @ts-expect-error read is a boolean
  await client.inbox.list({ read: 'yes' });
  // @ts-expect-error no such tab was asked for
  console.log(counts.archived);
}
`;

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function serverUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
