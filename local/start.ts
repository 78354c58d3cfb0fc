/**
 * `npm start`: runs all of Herald on this machine and prints where everything is.
 * Ctrl-C or SIGTERM stops everything it started, DynamoDB Local's java child included.
 */
import { ENV } from '../functions/config/env-names';
import { DEV_JWT_SECRET } from './dev-token';
import { DEFAULT_PORTS, type LocalPorts, PORT_VARIABLES, startLocalStack } from './stack';

function portsFromEnvironment(): LocalPorts {
  const ports = { ...DEFAULT_PORTS };
  for (const name of Object.keys(ports) as Array<keyof LocalPorts>) {
    const raw = process.env[PORT_VARIABLES[name]];
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`${PORT_VARIABLES[name]} must be a port number, got "${raw}"`);
    }
    ports[name] = port;
  }
  return ports;
}

async function main(): Promise<void> {
  // Node 20 runs all of this; the SDK's notice about 2027 releases is for deployers, not here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = Date.now();
  const jwtSecret = process.env[ENV.jwtSecret] || DEV_JWT_SECRET;
  const stack = await startLocalStack({
    ports: portsFromEnvironment(),
    jwtSecret,
    log: (message) => console.error(message),
  });

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

  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const show = (url: string) => url.replace('127.0.0.1', 'localhost');
  console.log(`
Herald is running locally (ready in ${seconds} s).

  Demo page and HTTP API   ${show(stack.urls.http)}/
  WebSocket                ${show(stack.urls.websocket)}/?token=<JWT>
  @connections API         ${show(stack.urls.callback)}/@connections/{id}
  SNS and SQS (fauxqs)     ${show(stack.urls.sns)}
  DynamoDB Local           ${show(stack.urls.dynamodb)}
  SES mail viewer          ${show(stack.urls.ses)}/   (sent mail as JSON: /store)

  Topic ARN                ${stack.topicArn}

Get a dev token:           npm run -s token -- alice --topics 'demo.*'
Connect a client:          npx wscat -c "${show(stack.urls.websocket)}/?token=$(npm run -s token -- alice)"
Publish a notification:    npm run -s notify -- --to alice --title "Hello"

Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  console.error('Herald could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
