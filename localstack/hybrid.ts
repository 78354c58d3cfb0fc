/**
 * `npm run localstack:hybrid`: Herald's own WebSocket gateway emulator, SQS runners and HTTP
 * server against LocalStack's DynamoDB, SNS, SQS and SES. All four are in LocalStack's free
 * community image; the piece it lacks (API Gateway WebSocket APIs) is the emulator's job.
 * The tables, topic and queues are created here, idempotently, as `npm start` creates them.
 * Ctrl-C or SIGTERM stops what this started; LocalStack keeps running.
 */
import { SESClient, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { z } from 'zod';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { senderAddress } from '#infra/constructs/herald-settings';
import { DEV_JWT_SECRET } from '#local/dev-token';
import type { GatewayLimits } from '#local/gateway/websocket-gateway';
import { runDirectly } from '#local/run-directly';
import {
  gatewayLimitsFromEnvironment,
  portsFromEnvironment,
  quietSdkNodeNotice,
  runUntilSignalled,
} from '#local/settings';
import {
  type LocalPorts,
  type LocalStack,
  type ServiceEndpoints,
  startLocalStack,
} from '#local/stack';

type Env = Record<string, string | undefined>;

export const COMPOSE_FILE = 'localstack/docker-compose.yml';
export const DEFAULT_LOCALSTACK_ENDPOINT = 'http://localhost:4566';
/** What hybrid mode uses of LocalStack: all of it is in the community image. */
export const HYBRID_SERVICES = ['dynamodb', 'sns', 'sqs', 'ses'] as const;
/** The sender `npm start` uses too when HERALD_EMAIL_FROM is unset. */
export const DEFAULT_EMAIL_FROM = 'herald@localhost';
/** Where LocalStack lists the mail its SES has sent, as JSON. */
export const SES_SENT_MAIL_PATH = '/_aws/ses';
/** Any non-numeric access key is LocalStack's default account, 000000000000. */
export const LOCALSTACK_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const HEALTH_PATH = '/_localstack/health';
const HEALTH_TIMEOUT_MS = 3_000;
/** Service states in which LocalStack serves requests (`available` ones start on first use). */
const USABLE_STATES: readonly string[] = ['available', 'starting', 'running'];

export interface HybridConfig {
  /** LocalStack's edge URL, without a trailing slash. */
  endpoint: string;
  services: ServiceEndpoints;
  /** Only `http` and `websocket` are listened on; the emulators' ports go unused. */
  ports: LocalPorts;
  gatewayLimits: Partial<GatewayLimits>;
  jwtSecret: string;
  emailFrom: string;
}

/** Hybrid mode's settings from the environment; throws on a value that cannot work. */
export function hybridConfig(env: Env): HybridConfig {
  const endpoint = localStackEndpoint(env);
  return {
    endpoint,
    services: {
      dynamodb: endpoint,
      sns: endpoint,
      sqs: endpoint,
      ses: endpoint,
      sesViewer: `${endpoint}${SES_SENT_MAIL_PATH}`,
    },
    ports: portsFromEnvironment(env),
    gatewayLimits: gatewayLimitsFromEnvironment(env),
    jwtSecret: env[ENV.jwtSecret] || DEV_JWT_SECRET,
    emailFrom: env[ENV.emailFrom] || DEFAULT_EMAIL_FROM,
  };
}

/** `LOCALSTACK_ENDPOINT`, or LocalStack's default edge URL; the origin only. */
export function localStackEndpoint(env: Env): string {
  const raw = env.LOCALSTACK_ENDPOINT?.trim() || DEFAULT_LOCALSTACK_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`LOCALSTACK_ENDPOINT must be a URL such as ${DEFAULT_LOCALSTACK_ENDPOINT}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`LOCALSTACK_ENDPOINT must be an http(s) URL, got "${raw}"`);
  }
  // Every service answers at the root of the edge port; a path would silently be ignored.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`LOCALSTACK_ENDPOINT must be LocalStack's origin (no path), got "${raw}"`);
  }
  return url.origin;
}

/** LocalStack is missing, unhealthy, or lacks a service Herald needs. */
export class LocalStackUnavailableError extends Error {
  override name = 'LocalStackUnavailableError';
}

export interface LocalStackHealth {
  /** e.g. `community` or `pro`. */
  edition: string;
  version: string;
  /** Service name to state (`available`, `running`, `disabled`, …). */
  services: Record<string, string>;
}

const healthSchema = z.object({
  services: z.record(z.string(), z.string()),
  edition: z.string().optional(),
  version: z.string().optional(),
});

/**
 * Asks LocalStack's health endpoint whether it runs and offers `required` services, so a
 * missing LocalStack is one clear sentence rather than an SDK connection error later.
 */
export async function checkLocalStack(
  endpoint: string,
  options: { required?: readonly string[]; timeoutMs?: number } = {},
): Promise<LocalStackHealth> {
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  const startIt =
    `start it with \`docker compose -f ${COMPOSE_FILE} up -d --wait\`, ` +
    'or set LOCALSTACK_ENDPOINT to where it runs';
  let response: Response;
  try {
    response = await fetch(`${endpoint}${HEALTH_PATH}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new LocalStackUnavailableError(
      `LocalStack is not reachable at ${endpoint} (${unreachableReason(error, timeoutMs)}): ${startIt}.`,
      { cause: error },
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new LocalStackUnavailableError(
      `LocalStack at ${endpoint} is not healthy (GET ${HEALTH_PATH} answered ${response.status}): ${startIt}.`,
    );
  }
  const parsed = healthSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new LocalStackUnavailableError(
      `${endpoint} answered GET ${HEALTH_PATH}, but not as LocalStack does: is it LocalStack? ${startIt}.`,
    );
  }
  const health: LocalStackHealth = {
    edition: parsed.data.edition ?? 'unknown',
    version: parsed.data.version ?? 'unknown',
    services: parsed.data.services,
  };
  const missing = (options.required ?? []).filter(
    (service) => !USABLE_STATES.includes(health.services[service] ?? ''),
  );
  if (missing.length > 0) {
    const states = missing.map((service) => `${service}: ${health.services[service] ?? 'absent'}`);
    throw new LocalStackUnavailableError(
      `LocalStack ${health.version} (${health.edition}) at ${endpoint} does not offer ` +
        `${missing.join(', ')} (${states.join('; ')}). Add them to SERVICES in ${COMPOSE_FILE} ` +
        '(or your own LocalStack configuration) and restart it.',
    );
  }
  return health;
}

function unreachableReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

/** LocalStack's SES, like AWS's, refuses mail from a sender that is not a verified identity. */
export async function verifySender(
  sesEndpoint: string,
  emailFrom: string,
  credentials = LOCALSTACK_CREDENTIALS,
): Promise<void> {
  const ses = new SESClient({ endpoint: sesEndpoint, region: TOPOLOGY.region, credentials });
  try {
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: senderAddress(emailFrom) }));
  } finally {
    ses.destroy();
  }
}

export interface Hybrid {
  stack: LocalStack;
  health: LocalStackHealth;
}

/** Checks LocalStack, verifies the sender, then runs Herald's local stack on LocalStack's services. */
export async function startHybrid(
  config: HybridConfig,
  log: (message: string) => void = () => undefined,
): Promise<Hybrid> {
  const health = await checkLocalStack(config.endpoint, { required: HYBRID_SERVICES });
  await verifySender(config.services.ses, config.emailFrom);
  // The stack hands the email handler this sender; set it so both use the verified one.
  process.env[ENV.emailFrom] = config.emailFrom;
  const stack = await startLocalStack({
    ports: config.ports,
    services: config.services,
    gatewayLimits: config.gatewayLimits,
    jwtSecret: config.jwtSecret,
    log,
  });
  return { stack, health };
}

/** What `npm run localstack:hybrid` prints once everything listens. */
export function describeHybrid(hybrid: Hybrid, endpoint: string): string {
  const { stack, health } = hybrid;
  const show = (url: string) => url.replace('127.0.0.1', 'localhost');
  return `
Herald is running in hybrid mode on LocalStack ${health.version} (${health.edition}).

  Demo page and HTTP API   ${show(stack.urls.http)}/
  WebSocket                ${show(stack.urls.websocket)}/?token=<JWT>
  @connections API         ${show(stack.urls.callback)}/@connections/{id}
  LocalStack               ${endpoint}   (DynamoDB, SNS, SQS, SES)
  Sent mail (JSON)         ${stack.urls.sesViewer}

  Topic ARN                ${stack.topicArn}

Get a dev token:           npm run -s token -- alice --topics 'demo.*'
Connect a client:          npx wscat -c "${show(stack.urls.websocket)}/?token=$(npm run -s token -- alice)"
Publish a notification:    ${publishHint(endpoint, stack.topicArn)}

Ctrl-C stops Herald; LocalStack keeps running (docker compose -f ${COMPOSE_FILE} down stops it).`;
}

/** `npm run notify` targets localhost:$HERALD_SQS_PORT (4566) unless told where SNS is. */
function publishHint(endpoint: string, topicArn: string): string {
  const url = new URL(endpoint);
  const notify = 'npm run -s notify -- --to alice --title "Hello"';
  if (url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname)) {
    return url.port === '4566' ? notify : `HERALD_SQS_PORT=${url.port || '80'} ${notify}`;
  }
  return (
    `AWS_ENDPOINT_URL_SNS=${endpoint} AWS_REGION=${TOPOLOGY.region} ` +
    `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local HERALD_TOPIC_ARN=${topicArn} ${notify}`
  );
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const config = hybridConfig(process.env);
  const hybrid = await startHybrid(config, (message) => console.error(message));
  runUntilSignalled(hybrid.stack, describeHybrid(hybrid, config.endpoint));
}

if (runDirectly(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(
      'Herald (hybrid) could not start:',
      error instanceof Error ? error.message : error,
    );
    process.exit(1);
  });
}
