/**
 * Sets or shows a tenant's default notification preferences, the layer beneath each
 * user's own (see README, "Preferences"):
 *
 *   npm run tenant-defaults -- acme '{"types":{"invoice.ready":{"email":"offline"}}}'
 *   npm run tenant-defaults -- acme --file defaults.json
 *   npm run tenant-defaults -- acme                      # prints the current defaults
 *
 * The JSON is validated as `PUT /preferences` validates a user's, and may also name the
 * tenant's critical types (`"critical": ["security.alert"]`), which no user can mute; it
 * replaces the tenant's defaults whole. The table is `HERALD_NOTIFICATIONS_TABLE` (default: the local
 * stack's). Locally it talks to `AWS_ENDPOINT_URL_DYNAMODB` (default: the local stack's
 * DynamoDB) with placeholder credentials; with `--aws`, to whatever the SDK's own
 * configuration names (region, credentials, endpoint), e.g. a deployed stack.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#adapters/aws-clients';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import type { Preferences } from '#core/model';
import { parseTenantDefaults } from '#core/preferences';
import { runDirectly } from './run-directly';

const USAGE = `usage: tenant-defaults <tenant> ['<json>' | --file defaults.json] [--aws]
  with no JSON and no --file, prints the tenant's current defaults`;

// The tenant charset of tokens and envelopes: defaults for any other name would never apply.
const TENANT = /^[A-Za-z0-9._-]{1,64}$/;

type Env = Record<string, string | undefined>;

/** Where the CLI's DynamoDB is: the local stack's unless told otherwise, or AWS with `--aws`. */
export function dynamoClientConfig(env: Env, aws: boolean): DynamoDBClientConfig {
  if (aws) return {};
  return {
    endpoint:
      env.AWS_ENDPOINT_URL_DYNAMODB || `http://localhost:${env.HERALD_DYNAMODB_PORT || 8000}`,
    region: env.AWS_REGION || TOPOLOGY.region,
    // Emulators accept any credentials; fixed ones keep the SDK from looking for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

/** The CLI: arguments in, the tenant's defaults (as stored afterwards) out, as JSON. */
export async function tenantDefaultsCli(args: string[], env: Env): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { file: { type: 'string' }, aws: { type: 'boolean', default: false } },
    strict: true,
  });
  const [tenant, json, ...rest] = positionals;
  if (tenant === undefined || rest.length > 0 || (json !== undefined && values.file)) {
    throw new Error(USAGE);
  }
  if (!TENANT.test(tenant)) throw new Error(`tenant must match ${TENANT.source}\n${USAGE}`);
  const aws = values.aws ?? false;
  const table = env[ENV.notificationsTable];
  if (aws && !table) {
    throw new Error(`with --aws, set ${ENV.notificationsTable} to the deployed table's name`);
  }

  let preferences: Preferences | undefined;
  if (values.file !== undefined) {
    // `npm run` runs in the package root; a relative path means the caller's directory.
    const path = resolve(env.INIT_CWD ?? process.cwd(), values.file);
    preferences = parseTenantDefaults(parseJson(await readFile(path, 'utf8'), path));
  } else if (json !== undefined) {
    preferences = parseTenantDefaults(parseJson(json, 'the argument'));
  }

  const client = new DynamoDBClient(dynamoClientConfig(env, aws));
  try {
    const store = new DynamoPreferenceStore(
      createDocumentClient(client),
      table || TOPOLOGY.tables.notifications.localName,
    );
    if (preferences !== undefined) await store.putTenantDefaults(tenant, preferences);
    const stored = await store.tenantDefaults(tenant);
    return JSON.stringify({ tenant, tenantDefaults: stored ?? {} }, null, 2);
  } finally {
    client.destroy();
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON`, { cause: error });
  }
}

if (runDirectly(import.meta.url)) {
  tenantDefaultsCli(process.argv.slice(2), process.env).then(
    (output) => process.stdout.write(`${output}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
