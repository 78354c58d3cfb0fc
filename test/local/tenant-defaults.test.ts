import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { ENV } from '#config/env-names';
import { dynamoClientConfig, tenantDefaultsCli } from '#local/tenant-defaults';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;
let store: DynamoPreferenceStore;
let env: Record<string, string>;
let directory: string;

beforeAll(async () => {
  local = await startDynamoLocal();
  store = new DynamoPreferenceStore(local.doc, local.tables.notifications);
  env = {
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    [ENV.notificationsTable]: local.tables.notifications,
  };
  directory = await mkdtemp(join(tmpdir(), 'herald-tenant-defaults-'));
});

afterAll(async () => {
  await local?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('tenantDefaultsCli', () => {
  it('writes validated defaults for the tenant and prints what is stored', async () => {
    const output = await tenantDefaultsCli(
      ['acme', '{"channels":{"email":"offline"},"types":{"a.muted":{"email":"never"}}}'],
      env,
    );
    const expected = { channels: { email: 'offline' }, types: { 'a.muted': { email: 'never' } } };
    expect(JSON.parse(output)).toEqual({ tenant: 'acme', tenantDefaults: expected });
    expect(await store.tenantDefaults('acme')).toEqual(expected);
    expect(await store.tenantDefaults('globex')).toBeUndefined();
  });

  it('reads the JSON from a file relative to the directory npm was run from', async () => {
    await writeFile(join(directory, 'defaults.json'), '{"types":{"b.c":{"inapp":false}}}');
    const output = await tenantDefaultsCli(['globex', '--file', 'defaults.json'], {
      ...env,
      INIT_CWD: directory,
    });
    expect(JSON.parse(output).tenantDefaults).toEqual({ types: { 'b.c': { inapp: false } } });
    expect(await store.tenantDefaults('globex')).toEqual({ types: { 'b.c': { inapp: false } } });
  });

  it('prints the current defaults when given no JSON, and {} for a tenant without', async () => {
    await store.putTenantDefaults('initech', { channels: { inapp: false } });
    expect(JSON.parse(await tenantDefaultsCli(['initech'], env))).toEqual({
      tenant: 'initech',
      tenantDefaults: { channels: { inapp: false } },
    });
    expect(JSON.parse(await tenantDefaultsCli(['nobody'], env)).tenantDefaults).toEqual({});
  });

  it.each([
    ['no tenant', [], /usage/],
    ['two documents', ['acme', '{}', '{}'], /usage/],
    ['JSON and --file', ['acme', '{}', '--file', 'x.json'], /usage/],
    ['an unknown flag', ['acme', '--table', 'x'], /Unknown option/],
    ['a bad tenant', ['ac#me', '{}'], /tenant must match/],
    ['text that is not JSON', ['acme', '{channels:'], /not valid JSON/],
    ['an invalid email mode', ['acme', '{"channels":{"email":"weekly"}}'], /channels\.email/],
    ['an unknown key', ['acme', '{"types":{"a":{"sms":true}}}'], /types\.a: .*"sms"/],
  ])('refuses %s and writes nothing', async (_case, args, message) => {
    await store.putTenantDefaults('acme', { channels: { email: 'always' } });
    await expect(tenantDefaultsCli(args, env)).rejects.toThrow(message);
    expect(await store.tenantDefaults('acme')).toEqual({ channels: { email: 'always' } });
  });

  it('insists on the table name when aimed at AWS', async () => {
    await expect(tenantDefaultsCli(['acme', '--aws', '{}'], {})).rejects.toThrow(
      ENV.notificationsTable,
    );
  });
});

describe('dynamoClientConfig', () => {
  it("aims at the local stack's DynamoDB by default, and leaves AWS to the SDK with --aws", () => {
    expect(dynamoClientConfig({}, false)).toMatchObject({
      endpoint: 'http://localhost:8000',
      region: 'us-east-1',
    });
    expect(dynamoClientConfig({ HERALD_DYNAMODB_PORT: '8100' }, false).endpoint).toBe(
      'http://localhost:8100',
    );
    expect(
      dynamoClientConfig({ AWS_ENDPOINT_URL_DYNAMODB: 'http://ls:4566' }, false),
    ).toMatchObject({ endpoint: 'http://ls:4566' });
    expect(dynamoClientConfig({ AWS_ENDPOINT_URL_DYNAMODB: 'http://ls:4566' }, true)).toEqual({});
  });
});

describe('npm run tenant-defaults', () => {
  it('runs the CLI as a script and prints the stored defaults', async () => {
    const scripts = JSON.parse(await readFile('package.json', 'utf8')).scripts;
    expect(scripts['tenant-defaults']).toBe('tsx local/tenant-defaults.ts');
    const { stdout } = await promisify(execFile)(
      join('node_modules', '.bin', 'tsx'),
      ['local/tenant-defaults.ts', 'umbrella', '{"channels":{"email":"never"}}'],
      { env: { ...process.env, ...env }, timeout: 20_000, killSignal: 'SIGKILL' },
    );
    expect(JSON.parse(stdout)).toEqual({
      tenant: 'umbrella',
      tenantDefaults: { channels: { email: 'never' } },
    });
    expect(await store.tenantDefaults('umbrella')).toEqual({ channels: { email: 'never' } });
  });
});
