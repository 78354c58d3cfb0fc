/**
 * What `npm start` and LocalStack's hybrid mode read from the environment, and how both
 * run until Ctrl-C or SIGTERM.
 */
import { parseSourceTenants, type SourceTenants } from '#config/eventbridge-ingress';
import type { GatewayLimits } from './gateway/websocket-gateway';
import type { LocalPorts, LocalStack } from './stack';

export const DEFAULT_PORTS: LocalPorts = {
  http: 3000,
  websocket: 3001,
  sqs: 4566,
  dynamodb: 8000,
  ses: 8005,
  eventbridge: 8010,
};

/** The variables that override each port, as README documents. */
export const PORT_VARIABLES: Record<keyof LocalPorts, string> = {
  http: 'HERALD_HTTP_PORT',
  websocket: 'HERALD_WS_PORT',
  sqs: 'HERALD_SQS_PORT',
  dynamodb: 'HERALD_DYNAMODB_PORT',
  ses: 'HERALD_SES_PORT',
  eventbridge: 'HERALD_EVENTBRIDGE_PORT',
};

type Env = Record<string, string | undefined>;

/** Each port from its `HERALD_*_PORT` variable, or its default. */
export function portsFromEnvironment(env: Env = process.env): LocalPorts {
  const ports = { ...DEFAULT_PORTS };
  for (const name of Object.keys(ports) as Array<keyof LocalPorts>) {
    const raw = env[PORT_VARIABLES[name]];
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`${PORT_VARIABLES[name]} must be a port number, got "${raw}"`);
    }
    ports[name] = port;
  }
  return ports;
}

/** The variable binding EventBridge sources to tenants locally, as context `eventSourceTenants` does. */
export const SOURCE_TENANTS_VARIABLE = 'HERALD_EVENTBRIDGE_SOURCE_TENANTS';

/** `{"source": "tenant", …}` from `HERALD_EVENTBRIDGE_SOURCE_TENANTS`; none when unset. */
export function sourceTenantsFromEnvironment(env: Env = process.env): SourceTenants {
  return parseSourceTenants(env[SOURCE_TENANTS_VARIABLE], SOURCE_TENANTS_VARIABLE);
}

/** API Gateway's idle and maximum-duration limits, shortenable to watch reconnects by hand. */
export function gatewayLimitsFromEnvironment(env: Env = process.env): Partial<GatewayLimits> {
  const limits: Partial<GatewayLimits> = {};
  for (const [key, name] of [
    ['idleTimeoutMs', 'HERALD_WS_IDLE_TIMEOUT_MS'],
    ['maxConnectionMs', 'HERALD_WS_MAX_CONNECTION_MS'],
  ] as const) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${name} must be a positive number of milliseconds, got "${raw}"`);
    }
    limits[key] = value;
  }
  return limits;
}

/** Prints the banner, then stops the stack on the first SIGINT or SIGTERM and exits. */
export function runUntilSignalled(stack: LocalStack, banner: string): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Herald…`);
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  console.log(banner);
}

/** The SDK's notice that releases from 2027 need Node 22 is for deployers, not for a local run. */
export function quietSdkNodeNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
