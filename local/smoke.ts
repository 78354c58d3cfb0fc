/**
 * `npm run smoke -- --stack HeraldApp [--data-stack HeraldData] [--token T]`: checks a
 * deployed Herald end to end (see `smoke-check.ts`), finding its URLs, topic and bus in the
 * stacks' outputs. `npm run smoke -- --local` runs the same checks against a running
 * `npm start`, with a dev token. Exits 1, saying what failed, when any check fails.
 */
import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '#config/env-names';
import { TOPOLOGY } from '#config/topology';
import { DEV_JWT_SECRET, signDevToken } from './dev-token';
import { runDirectly } from './run-directly';
import { quietSdkNodeNotice } from './settings';
import { runSmoke, type SmokeTarget } from './smoke-check';
import { readStackOutputs, requireOutput } from './stack-outputs';

const USAGE =
  'usage: smoke (--stack HeraldApp [--data-stack HeraldData] --token T | --local [--token T]) [--timeout s]';

export interface SmokeArgs {
  local: boolean;
  stack: string;
  dataStack: string;
  token?: string;
  timeoutSeconds: number;
}

export function smokeArgs(args: string[]): SmokeArgs {
  const { values } = parseArgs({
    args,
    options: {
      local: { type: 'boolean', default: false },
      stack: { type: 'string', default: 'HeraldApp' },
      'data-stack': { type: 'string', default: 'HeraldData' },
      token: { type: 'string' },
      timeout: { type: 'string', default: '30' },
    },
    strict: true,
  });
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`--timeout must be a number of seconds\n${USAGE}`);
  }
  if (!values.local && values.token === undefined) {
    throw new Error(`a deployed stack needs --token (a token its authorizer accepts)\n${USAGE}`);
  }
  return {
    local: values.local ?? false,
    stack: values.stack ?? 'HeraldApp',
    dataStack: values['data-stack'] ?? 'HeraldData',
    token: values.token,
    timeoutSeconds,
  };
}

type Clients = { sns: SNSClient; events: EventBridgeClient };
type Target = Omit<SmokeTarget, 'sns' | 'eventBridge' | 'log' | 'timeoutMs'> & {
  busName?: string;
};

/** The running `npm start`, on the ports its `HERALD_*_PORT` variables say. */
async function localTarget(args: SmokeArgs, env = process.env): Promise<[Target, Clients]> {
  const port = (name: string, fallback: number) => env[name] || String(fallback);
  const client = {
    region: TOPOLOGY.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const token =
    args.token ??
    (await signDevToken({
      userId: 'smoke-test',
      secret: env[ENV.jwtSecret] || DEV_JWT_SECRET,
      ttlSeconds: 600,
    }));
  return [
    {
      websocketUrl: `ws://localhost:${port('HERALD_WS_PORT', 3001)}/`,
      httpApiUrl: `http://localhost:${port('HERALD_HTTP_PORT', 3000)}/`,
      token,
      topicArn: `arn:aws:sns:${TOPOLOGY.region}:000000000000:${TOPOLOGY.topic.name}`,
    },
    {
      sns: new SNSClient({
        endpoint: `http://localhost:${port('HERALD_SQS_PORT', 4566)}`,
        ...client,
      }),
      events: new EventBridgeClient({
        endpoint: `http://localhost:${port('HERALD_EVENTBRIDGE_PORT', 8010)}`,
        ...client,
      }),
    },
  ];
}

/** The deployed stacks, from their outputs. */
async function deployedTarget(args: SmokeArgs): Promise<[Target, Clients]> {
  const app = await readStackOutputs(args.stack);
  const data = await readStackOutputs(args.dataStack);
  return [
    {
      websocketUrl: requireOutput(app, 'WebSocketUrl', args.stack),
      httpApiUrl: requireOutput(app, 'HttpApiUrl', args.stack),
      token: args.token as string,
      topicArn: requireOutput(data, 'TopicArn', args.dataStack),
      busName: app.EventBusName,
    },
    { sns: new SNSClient({}), events: new EventBridgeClient({}) },
  ];
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const args = smokeArgs(process.argv.slice(2));
  const [target, clients] = args.local ? await localTarget(args) : await deployedTarget(args);
  try {
    const result = await runSmoke({
      ...target,
      sns: clients.sns,
      eventBridge: { client: clients.events, busName: target.busName },
      timeoutMs: args.timeoutSeconds * 1000,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(
      `smoke test passed: ${result.paths.map((each) => each.path).join(' and ')} pushed and listed; ${result.cleanedUp} notification(s) cleaned up`,
    );
  } finally {
    clients.sns.destroy();
    clients.events.destroy();
  }
}

if (runDirectly(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`smoke test FAILED: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
