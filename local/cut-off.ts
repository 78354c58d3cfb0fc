/**
 * Cuts a user off: closes every connection they hold (README "Cutting a user off").
 *
 *   npm run cut-off -- --tenant acme --user alice           # the local stack
 *   npm run cut-off -- --tenant acme --user alice --aws     # a deployed stack
 *
 * Locally it reads the local stack's DynamoDB (`AWS_ENDPOINT_URL_DYNAMODB`, default
 * `localhost:8000`) and closes through its `@connections` API (`HERALD_CALLBACK_URL`,
 * default `http://localhost:3001`). With `--aws` it does the same with the SDK's own
 * configuration (region, credentials) on `HERALD_CONNECTIONS_TABLE` and
 * `HERALD_CALLBACK_URL`, the stack's `ConnectionsTableName` and `CallbackUrl` outputs.
 */
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignedPostDelivery } from '#adapters/api-gateway-delivery';
import { createDocumentClient } from '#adapters/aws-clients';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { cutOffUser, DEFAULT_CLOSE_CONCURRENCY } from '#core/connection-lifetime';
import { runDirectly } from './run-directly';
import { dynamoClientConfig } from './tenant-defaults';

const USAGE = 'usage: cut-off --tenant <tenant> --user <userId> [--aws]';
const TENANT = /^[A-Za-z0-9._-]{1,64}$/;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type Env = Record<string, string | undefined>;

/** The CLI: arguments in, a one-line JSON report (`closed`, `failed`) out. */
export async function cutOffCli(args: string[], env: Env): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      user: { type: 'string' },
      aws: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const { tenant, user } = values;
  if (tenant === undefined || user === undefined || user === '') throw new Error(USAGE);
  if (!TENANT.test(tenant)) throw new Error(`tenant must match ${TENANT.source}\n${USAGE}`);
  const aws = values.aws ?? false;
  const table = env[ENV.connectionsTable];
  const callbackUrl = env[ENV.callbackUrl];
  if (aws && (!table || !callbackUrl)) {
    throw new Error(
      `with --aws, set ${ENV.connectionsTable} and ${ENV.callbackUrl} to the deployed stack's outputs`,
    );
  }
  const region = env.AWS_REGION || TOPOLOGY.region;
  const url = callbackUrl || `http://localhost:${env.HERALD_WS_PORT || 3001}`;
  const client = new DynamoDBClient(dynamoClientConfig(env, aws));
  const agent = url.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true })
    : new Agent({ keepAlive: true });
  try {
    const report = await cutOffUser(
      {
        connections: new DynamoConnectionStore(
          createDocumentClient(client),
          table || TOPOLOGY.tables.connections.localName,
        ),
        disconnector: new SignedPostDelivery({
          callbackUrl: url,
          region,
          credentials: aws ? defaultProvider() : async () => LOCAL_CREDENTIALS,
          agent,
        }),
        concurrency: DEFAULT_CLOSE_CONCURRENCY,
      },
      tenant,
      user,
    );
    return JSON.stringify({
      tenant,
      userId: user,
      closed: report.closed.length,
      failed: report.problems.length,
    });
  } finally {
    client.destroy();
    agent.destroy();
  }
}

if (runDirectly(import.meta.url)) {
  cutOffCli(process.argv.slice(2), process.env).then(
    (output) => process.stdout.write(`${output}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
