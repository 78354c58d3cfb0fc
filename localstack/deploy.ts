/**
 * `npm run localstack:deploy [-- --pro]`: bootstraps and deploys Herald's CDK app
 * (`infra/app.ts`) to LocalStack with cdklocal, then prints the stacks' outputs.
 *
 * Community image: `HeraldData` only (tables, topic, queues). `HeraldApp` is the WebSocket API,
 * and API Gateway v2 is a LocalStack Pro feature: on community its deploy fails, so run
 * `npm run localstack:hybrid` for the WebSocket side instead.
 * Pro (`--pro` or LOCALSTACK_PRO=1): both stacks, after storing the JWT secret in Secrets
 * Manager and verifying the SES sender, which `HeraldApp` is configured with.
 *
 * cdklocal (`aws-cdk-local`) is not a project dependency: npx fetches the pinned version and
 * it drives the project's own `aws-cdk`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DEV_JWT_SECRET, MIN_SECRET_BYTES } from '#config/auth-config';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { runDirectly } from '#local/run-directly';
import { quietSdkNodeNotice } from '#local/settings';
import {
  COMPOSE_FILE,
  checkLocalStack,
  DEFAULT_EMAIL_FROM,
  type LocalStackHealth,
  LocalStackUnavailableError,
  localStackEndpoint,
  verifySender,
} from './hybrid';

type Env = Record<string, string | undefined>;

/** `npm view aws-cdk-local version` when this was written; bump on purpose. */
export const CDKLOCAL_VERSION = '3.0.4';
export const STACKS = { data: 'HeraldData', app: 'HeraldApp' } as const;
/** LocalStack's default account: the one any non-numeric access key (here `test`) maps to. */
export const LOCALSTACK_ACCOUNT = '000000000000';
export const OUTPUTS_FILE = join('cdk.out', 'localstack-outputs.json');
/** Where a generated HS256 secret is kept for signing tokens (cdk.out is not committed). */
export const SECRET_FILE = join('cdk.out', 'localstack-jwt-secret');
export const JWT_SECRET_NAME = 'herald/localstack/jwt-secret';
/** What bootstrap and `HeraldData` need; `HeraldApp` needs PRO_SERVICES too. */
export const DATA_SERVICES = [
  'cloudformation',
  's3',
  'iam',
  'sts',
  'ssm',
  'dynamodb',
  'sns',
  'sqs',
];
export const PRO_SERVICES = ['lambda', 'logs', 'secretsmanager', 'ses', 'apigatewayv2'];

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Host names at which `s3.localhost.localstack.cloud` reaches the same LocalStack. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', 'localhost.localstack.cloud'];

export interface DeployOptions {
  endpoint: string;
  /** cdklocal uploads assets to S3 by a host name of its own. */
  s3Endpoint: string;
  /** Deploy `HeraldApp` too: needs LocalStack Pro's WebSocket APIs. */
  pro: boolean;
  emailFrom: string;
  /**
   * How the authorizer verifies tokens: an HS256 secret (stored in Secrets Manager; generated
   * when none is given) or JWKS, which a deployed stage accepts only with an audience.
   */
  jwt: ({ secret: string; generated: boolean } | { jwksUrl: string }) & { audience?: string };
}

/** The deploy's settings from its arguments and environment; throws on one that cannot work. */
export function deployOptions(args: string[], env: Env): DeployOptions {
  const { values } = parseArgs({
    args,
    options: { pro: { type: 'boolean' }, community: { type: 'boolean' } },
    strict: true,
  });
  if (values.pro && values.community) throw new Error('pass --pro or --community, not both');
  const pro = values.pro ? true : values.community ? false : flag(env, 'LOCALSTACK_PRO');
  const endpoint = localStackEndpoint(env);
  return {
    endpoint,
    s3Endpoint: s3EndpointFor(endpoint, env),
    pro,
    emailFrom: env[ENV.emailFrom] || DEFAULT_EMAIL_FROM,
    jwt: jwtOptions(env),
  };
}

/**
 * The deployed functions are a deployed stage: they refuse the public dev secret, a short
 * one, and JWKS without an audience. Refused here first, with the fix, rather than at their
 * cold start; without a secret, a random one is generated.
 */
function jwtOptions(env: Env): DeployOptions['jwt'] {
  const jwksUrl = env[ENV.jwksUrl]?.trim();
  const audience = env[ENV.jwtAudience]?.trim() || undefined;
  const withAudience = audience === undefined ? {} : { audience };
  if (jwksUrl) {
    if (audience === undefined) {
      throw new Error(
        `${ENV.jwksUrl} needs ${ENV.jwtAudience}: a deployed stage refuses JWKS without one`,
      );
    }
    return { jwksUrl, ...withAudience };
  }
  const given = env[ENV.jwtSecret];
  if (!given) {
    return {
      secret: randomBytes(MIN_SECRET_BYTES).toString('base64url'),
      generated: true,
      ...withAudience,
    };
  }
  if (given === DEV_JWT_SECRET) {
    throw new Error(
      `${ENV.jwtSecret} is the public dev secret, which a deployed stage refuses: unset it to have one generated`,
    );
  }
  if (Buffer.byteLength(given) < MIN_SECRET_BYTES) {
    throw new Error(`${ENV.jwtSecret} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return { secret: given, generated: false, ...withAudience };
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new Error(`${name} must be 1 or 0, got "${env[name]}"`);
}

/**
 * cdklocal needs `AWS_ENDPOINT_URL_S3` beside `AWS_ENDPOINT_URL`; LocalStack's own default is
 * `s3.localhost.localstack.cloud`, a public DNS name for 127.0.0.1 whose subdomains (one per
 * bucket) resolve too. For a LocalStack elsewhere, the user says where its S3 is.
 */
function s3EndpointFor(endpoint: string, env: Env): string {
  const given = env.AWS_ENDPOINT_URL_S3?.trim();
  if (given) return given;
  const url = new URL(endpoint);
  if (!LOOPBACK_HOSTS.includes(url.hostname)) {
    throw new Error(
      `set AWS_ENDPOINT_URL_S3 for the LocalStack at ${endpoint}: cdklocal uploads assets to ` +
        'S3 by a host name whose subdomains reach that LocalStack',
    );
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//s3.localhost.localstack.cloud:${port}`;
}

export interface DeployPlan {
  /** Added to the environment of both commands. */
  env: Record<string, string>;
  /** Arguments to `npx`. */
  bootstrap: string[];
  deploy: string[];
}

/** The cdklocal commands for these options; `jwtSecretArn` once the secret is stored. */
export function deployPlan(
  options: DeployOptions,
  resolved: { jwtSecretArn?: string } = {},
  env: Env = {},
): DeployPlan {
  const cdklocal = ['--yes', `aws-cdk-local@${CDKLOCAL_VERSION}`];
  const stacks = options.pro ? [STACKS.data, STACKS.app] : [STACKS.data];
  const region = TOPOLOGY.region;
  return {
    env: {
      AWS_ENDPOINT_URL: options.endpoint,
      AWS_ENDPOINT_URL_S3: options.s3Endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      // cdklocal drops every other AWS_* variable, so no profile can aim the deploy at real AWS.
      AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY',
      // npx installs cdklocal alone; it requires `aws-cdk`, which is the project's.
      NODE_PATH: [join(REPO_ROOT, 'node_modules'), env.NODE_PATH]
        .filter((each) => each !== undefined && each !== '')
        .join(delimiter),
    },
    bootstrap: [...cdklocal, 'bootstrap', `aws://${LOCALSTACK_ACCOUNT}/${region}`],
    deploy: [
      ...cdklocal,
      'deploy',
      ...stacks,
      '--require-approval',
      'never',
      '--outputs-file',
      OUTPUTS_FILE,
      ...(options.pro ? appContext(options, resolved) : []),
    ],
  };
}

/** `-c key=value` pairs `infra/constructs/herald-settings.ts` reads for `HeraldApp`. */
function appContext(options: DeployOptions, resolved: { jwtSecretArn?: string }): string[] {
  let jwt: string;
  if ('jwksUrl' in options.jwt) {
    jwt = `jwksUrl=${options.jwt.jwksUrl}`;
  } else if (resolved.jwtSecretArn) {
    jwt = `jwtSecretArn=${resolved.jwtSecretArn}`;
  } else {
    throw new Error('HeraldApp needs the JWT secret stored first (its ARN is missing)');
  }
  const audience =
    options.jwt.audience === undefined ? [] : ['-c', `jwtAudience=${options.jwt.audience}`];
  return ['-c', jwt, ...audience, '-c', `emailFrom=${options.emailFrom}`];
}

/** Creates or updates the HS256 secret in LocalStack's Secrets Manager; returns its ARN. */
export async function putJwtSecret(endpoint: string, secret: string): Promise<string> {
  const client = new SecretsManagerClient({
    endpoint,
    region: TOPOLOGY.region,
    credentials: CREDENTIALS,
  });
  try {
    try {
      const created = await client.send(
        new CreateSecretCommand({
          Name: JWT_SECRET_NAME,
          Description: 'Herald HS256 token secret (LocalStack)',
          SecretString: secret,
        }),
      );
      return required(created.ARN, 'CreateSecret returned no ARN');
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const updated = await client.send(
        new PutSecretValueCommand({ SecretId: JWT_SECRET_NAME, SecretString: secret }),
      );
      return required(updated.ARN, 'PutSecretValue returned no ARN');
    }
  } finally {
    client.destroy();
  }
}

/** HeraldApp's WebSocket API needs API Gateway v2, which only LocalStack Pro has. */
function requireWebSocketApis(health: LocalStackHealth, endpoint: string): void {
  const state = health.services.apigatewayv2;
  if (state === undefined || state === 'disabled' || state === 'error') {
    throw new LocalStackUnavailableError(
      `HeraldApp needs API Gateway WebSocket APIs (apigatewayv2), which LocalStack ` +
        `${health.version} (${health.edition}) at ${endpoint} does not offer (${state ?? 'absent'}). ` +
        'They are a LocalStack Pro feature: run the Pro image with LOCALSTACK_AUTH_TOKEN ' +
        `(see ${COMPOSE_FILE}), or deploy HeraldData alone (without --pro) and run ` +
        '`npm run localstack:hybrid` for the WebSocket side.',
    );
  }
}

function run(args: string[], env: Record<string, string>): Promise<void> {
  const shown = args.filter((arg) => arg !== '--yes').join(' ');
  console.log(`\n$ npx ${shown}`);
  return new Promise((resolve, reject) => {
    const child = spawn('npx', args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`npx ${shown} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** `Stack.Output = value` lines from cdk's outputs file. */
export function formatOutputs(outputs: unknown): string {
  if (typeof outputs !== 'object' || outputs === null) return '';
  const lines: string[] = [];
  for (const [stack, values] of Object.entries(outputs)) {
    if (typeof values !== 'object' || values === null) continue;
    for (const [key, value] of Object.entries(values)) lines.push(`  ${stack}.${key} = ${value}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const options = deployOptions(process.argv.slice(2), process.env);
  const health = await checkLocalStack(options.endpoint, { required: DATA_SERVICES });
  console.log(`LocalStack ${health.version} (${health.edition}) at ${options.endpoint}`);

  const resolved: { jwtSecretArn?: string } = {};
  if (options.pro) {
    requireWebSocketApis(health, options.endpoint);
    await checkLocalStack(options.endpoint, { required: PRO_SERVICES });
    if ('secret' in options.jwt) {
      resolved.jwtSecretArn = await putJwtSecret(options.endpoint, options.jwt.secret);
      console.log(`JWT secret stored as ${resolved.jwtSecretArn}`);
      if (options.jwt.generated) {
        await writeFile(join(REPO_ROOT, SECRET_FILE), options.jwt.secret, { mode: 0o600 });
      }
    }
    await verifySender(options.endpoint, options.emailFrom, CREDENTIALS);
    console.log(`SES sender verified: ${options.emailFrom}`);
  } else {
    console.log(
      `Deploying ${STACKS.data} only: ${STACKS.app}'s WebSocket API needs LocalStack Pro ` +
        '(pass --pro or set LOCALSTACK_PRO=1 if this LocalStack is Pro).',
    );
  }

  const plan = deployPlan(options, resolved, process.env);
  await run(plan.bootstrap, plan.env);
  await run(plan.deploy, plan.env);

  const outputs: unknown = JSON.parse(await readFile(join(REPO_ROOT, OUTPUTS_FILE), 'utf8'));
  console.log(`\nDeployed to LocalStack (outputs in ${OUTPUTS_FILE}):\n${formatOutputs(outputs)}`);
  console.log(
    options.pro
      ? `\n${tokenHint(options.jwt)}`
      : '\nFor the WebSocket side on this LocalStack: npm run localstack:hybrid',
  );
}

function tokenHint(jwt: DeployOptions['jwt']): string {
  if ('jwksUrl' in jwt) return 'Tokens come from the identity provider behind HERALD_JWKS_URL.';
  if (!jwt.generated) return 'Sign tokens with your HERALD_JWT_SECRET: npm run -s token -- alice';
  return (
    `A random JWT secret was generated and kept in ${SECRET_FILE}; sign tokens with ` +
    `HERALD_JWT_SECRET="$(cat ${SECRET_FILE})" npm run -s token -- alice`
  );
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}

if (runDirectly(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error('LocalStack deploy failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
