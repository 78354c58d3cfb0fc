/**
 * `npm start`: runs all of Herald on this machine and prints where everything is.
 * Ctrl-C or SIGTERM stops everything it started, DynamoDB Local's java child included.
 */
import { ENV } from '#config/env-names';
import { DEV_JWT_SECRET } from './dev-token';
import type { FaultPlan } from './faults/fault-plan';
import { describeFaults, FAULTS_VARIABLE, parseFaults } from './faults/parse-faults';
import {
  gatewayLimitsFromEnvironment,
  portsFromEnvironment,
  quietSdkNodeNotice,
  runUntilSignalled,
  sourceTenantsFromEnvironment,
} from './settings';
import { type LocalStack, startLocalStack } from './stack';

function banner(stack: LocalStack, seconds: string, faults: FaultPlan | undefined): string {
  const show = (url: string) => url.replace('127.0.0.1', 'localhost');
  const injected = describeFaults(faults);
  const faultLines =
    injected.length === 0
      ? ''
      : `\nFaults injected (${FAULTS_VARIABLE}):\n${injected.map((line) => `  ${line}`).join('\n')}\n`;
  return `
Herald is running locally (ready in ${seconds} s).

  Demo page and HTTP API   ${show(stack.urls.http)}/
  WebSocket                ${show(stack.urls.websocket)}/?token=<JWT>
  @connections API         ${show(stack.urls.callback)}/@connections/{id}
  SNS and SQS (fauxqs)     ${show(stack.urls.sns)}
  DynamoDB Local           ${show(stack.urls.dynamodb)}
  SES mail viewer          ${show(stack.urls.sesViewer)}/   (sent mail as JSON: /store)
  EventBridge (PutEvents)  ${show(stack.urls.eventbridge)}

  Topic ARN                ${stack.topicArn}

Get a dev token:           npm run -s token -- alice --topics 'demo.*'
Connect a client:          npx wscat -c "${show(stack.urls.websocket)}/?token=$(npm run -s token -- alice)"
Publish a notification:    npm run -s notify -- --to alice --title "Hello"
Through EventBridge:       npm run -s notify -- --eventbridge --to alice --title "Hello"
${faultLines}
Ctrl-C stops everything.`;
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const startedAt = Date.now();
  const faults = parseFaults(process.env[FAULTS_VARIABLE]);
  const stack = await startLocalStack({
    faults,
    ports: portsFromEnvironment(),
    gatewayLimits: gatewayLimitsFromEnvironment(),
    eventSourceTenants: sourceTenantsFromEnvironment(),
    jwtSecret: process.env[ENV.jwtSecret] || DEV_JWT_SECRET,
    metrics: process.env[ENV.localMetrics] !== '0',
    log: (message) => console.error(message),
  });
  runUntilSignalled(stack, banner(stack, ((Date.now() - startedAt) / 1000).toFixed(1), faults));
}

main().catch((error: unknown) => {
  console.error('Herald could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
