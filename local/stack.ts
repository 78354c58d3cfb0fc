/**
 * Herald on one machine: DynamoDB Local, fauxqs (SNS + SQS), aws-ses-v2-local, the
 * WebSocket gateway emulator, the SQS event-source runners and the HTTP server, wired to
 * the very handlers that run in AWS. Handlers find the emulators through the SDK's
 * standard `AWS_ENDPOINT_URL_<SERVICE>` variables; nothing in them knows it is local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { LOCAL_STAGE } from '#config/auth-config';
import { ENV } from '#config/env-names';
import { ingressRules, type SourceTenants } from '#config/eventbridge-ingress';
import { TOPOLOGY } from '#config/topology';
import type { SnoozeSweepResult } from '#handlers/snooze-sweep';
import type { SweepResult } from './connection-sweeper';
import { startDynamoDbLocal } from './dynamo-local';
import { createTables, type TableNames } from './dynamo-tables';
import { startEventBridgeServer } from './eventbridge-server';
import { connectionFaults } from './faults/connection-faults';
import type { FaultPlan } from './faults/fault-plan';
import { type FaultName, FaultTally } from './faults/fault-tally';
import { handlerFaults } from './faults/handler-faults';
import { startServiceFaults } from './faults/service-faults';

export type { FaultPlan } from './faults/fault-plan';

import { type GatewayLimits, startWebSocketGateway } from './gateway/websocket-gateway';
import { startHttpServer } from './http-server';
import { createMessaging, type Messaging } from './messaging';
import { type ScheduledSweepOptions, startScheduledSweeps } from './scheduled-sweeps';
import { type SesFeedback, sesEventOf, snsEventOf } from './ses-feedback';
import { startSesServer } from './ses-server';
import { startSqsRunner } from './sqs-runner';
import { type FrameRateOptions, frameRateEnvironment, loadHandlers } from './stack-handlers';
import { startTtlSweeper } from './ttl-sweeper';

/** Concurrent batches Lambda's SQS event source starts with, before it scales up. */
const LAMBDA_SQS_POLLERS = 5;

/** How often the stand-in for DynamoDB's TTL looks for expired notifications. */
export const DEFAULT_TTL_SWEEP_MS = 5_000;

/** Where the AWS services are: the embedded emulators, or e.g. LocalStack (hybrid mode). */
export interface ServiceEndpoints {
  dynamodb: string;
  sqs: string;
  sns: string;
  ses: string;
  sesViewer: string;
}

/** The port each server listens on (`HERALD_*_PORT` in `settings.ts`). */
export interface LocalPorts {
  /** Demo page and HTTP API. */
  http: number;
  /** WebSocket gateway and its `@connections` management API. */
  websocket: number;
  /** fauxqs: SNS and SQS. */
  sqs: number;
  dynamodb: number;
  ses: number;
  /** The local EventBridge (`PutEvents`); a free port when absent. */
  eventbridge?: number;
}

export interface LocalStackOptions extends ScheduledSweepOptions {
  /** 0 picks a free port (tests). */
  ports: LocalPorts;
  /**
   * Services already running elsewhere (LocalStack's hybrid mode). Without it the stack
   * starts DynamoDB Local, fauxqs and aws-ses-v2-local itself, on `ports`.
   */
  services?: ServiceEndpoints;
  /** Interface every server listens on; loopback unless told otherwise. */
  host?: string;
  /** HS256 secret that tokens are signed and verified with. */
  jwtSecret: string;
  /** API Gateway's limits, shortenable for tests. */
  gatewayLimits?: Partial<GatewayLimits>;
  /** Long-poll wait of the SQS runners; short keeps Ctrl-C quick. */
  pollSeconds?: number;
  /** Between sweeps of the local TTL (`ttl-sweeper.ts`); `DEFAULT_TTL_SWEEP_MS` unless given. */
  ttlSweepIntervalMs?: number;
  /**
   * The queues' visibility timeout, AWS's (180 s) when absent. Shorter brings a batch that a
   * fault failed back sooner (tests, chaos runs); it must stay above a handler's run time.
   */
  visibilityTimeoutSeconds?: number;
  /** Sources bound to a tenant, as context `eventSourceTenants` binds them in AWS. */
  eventSourceTenants?: SourceTenants;
  /** The bus the ingress rules are on; `default` unless given (context `eventBusName`). */
  eventBusName?: string;
  /** Faults to inject (`HERALD_FAULTS` for `npm start`); none when absent. */
  faults?: FaultPlan;
  /**
   * Print the handlers' metrics as they happen: Powertools' EMF lines on stdout, as a Lambda
   * function writes them for CloudWatch. Off unless asked, so tests stay quiet; `npm start`
   * turns it on (`HERALD_METRICS=0` turns it off there).
   */
  metrics?: boolean;
  /**
   * The per-connection frame rate the message function enforces (`HERALD_FRAMES_PER_SECOND`,
   * `HERALD_FRAME_BURST`, `HERALD_FRAME_REFUSALS_BEFORE_CLOSE`); its defaults unless given.
   */
  frameRate?: FrameRateOptions;
  log?: (message: string) => void;
}

export interface LocalStack {
  urls: {
    http: string;
    websocket: string;
    callback: string;
    sns: string;
    sqs: string;
    dynamodb: string;
    ses: string;
    /** Where sent mail can be seen. */
    sesViewer: string;
    /** EventBridge's `PutEvents`, matched against the ingress rules. */
    eventbridge: string;
  };
  topicArn: string;
  queues: Messaging['queues'];
  tables: TableNames;
  /**
   * Runs the `ses-feedback` handler with a bounce or complaint as SES would report it
   * (aws-ses-v2-local never bounces), so a test can drive the suppression list.
   */
  injectSesFeedback(feedback: SesFeedback): Promise<void>;
  /** How many of each fault the plan has injected so far (all 0 without a plan). */
  injectedFaults(): Record<FaultName, number>;
  /** Runs the connection sweep now: closes the connections whose token has expired. */
  sweepExpiredConnections(): Promise<SweepResult>;
  /** Runs the snooze wake-up now (by its clock: `snoozeClock`). */
  sweepSnoozed(): Promise<SnoozeSweepResult>;
  /** Closes every connection of a user, as the `cut-off` function does. */
  cutOff(tenant: string, userId: string): Promise<{ closed: number; failed: number }>;
  /** Stops everything this stack started, the java child included. Idempotent. */
  stop(): Promise<void>;
}

const REGION = TOPOLOGY.region;
/** The configuration set sends name locally (aws-ses-v2-local accepts any). */
const LOCAL_CONFIGURATION_SET = 'herald-local';

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    // Last started, first stopped: consumers before the services they consume.
    stopping ??= (async () => {
      for (const each of stops.reverse()) {
        await each().catch((error: unknown) => log(`stop failed: ${String(error)}`));
      }
    })();
    return stopping;
  };

  try {
    const services = options.services ?? (await startEmulators(options.ports, host, stops));
    const queueEndpoint = services.sqs;
    const tables: TableNames = {
      connections: TOPOLOGY.tables.connections.localName,
      notifications: TOPOLOGY.tables.notifications.localName,
    };
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const dynamoClient = new DynamoDBClient({
      endpoint: services.dynamodb,
      region: REGION,
      credentials,
    });
    await createTables(dynamoClient, tables);
    dynamoClient.destroy();

    const sqs = new SQSClient({
      endpoint: queueEndpoint,
      region: REGION,
      credentials,
      useQueueUrlAsEndpoint: false,
    });
    const sns = new SNSClient({ endpoint: services.sns, region: REGION, credentials });
    stops.push(async () => {
      sqs.destroy();
      sns.destroy();
    });
    const messaging = await createMessaging(
      { sns, sqs },
      { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds },
    );
    const eventBridge = await startEventBridgeServer({
      port: options.ports.eventbridge ?? 0,
      host,
      busName: options.eventBusName ?? 'default',
      rules: ingressRules(options.eventSourceTenants),
      region: REGION,
      log,
      // The rule's target in AWS: the topic, with the event's `detail` as the message.
      async forward(detail) {
        await sns.send(new PublishCommand({ TopicArn: messaging.topicArn, Message: detail }));
      },
    });
    stops.push(() => eventBridge.stop());
    // Table creation above went direct; the handlers meet the planned faults.
    const faults = options.faults;
    const tally = new FaultTally();
    const faulted = await startServiceFaults(services, faults, stops, tally);

    // The gateway must listen before the fan-out learns its callback URL, and the
    // handlers must see their configuration before their first invocation wires them.
    const handlers = { current: undefined as undefined | Awaited<ReturnType<typeof loadHandlers>> };
    const gateway = await startWebSocketGateway({
      port: options.ports.websocket,
      host,
      stage: 'local',
      limits: options.gatewayLimits,
      faults: faults?.connections ? connectionFaults(faults, tally) : undefined,
      handlers: {
        authorizer: (event, context) => required(handlers.current).authorizer(event, context),
        connect: (event) => required(handlers.current).connect(event),
        disconnect: (event) => required(handlers.current).disconnect(event),
        default: (event) => required(handlers.current).message(event),
      },
    });
    stops.push(() => gateway.stop());

    // The frame-rate variables go back to what they were when the stack stops, so one test
    // file's tight budget never reaches the next stack started in the same process.
    const frameRate = frameRateEnvironment(options.frameRate);
    const before = Object.fromEntries(
      Object.keys(frameRate).map((name) => [name, process.env[name]]),
    );
    stops.push(async () => {
      for (const [name, value] of Object.entries(before)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: faulted.dynamodb,
      AWS_ENDPOINT_URL_SQS: queueEndpoint,
      AWS_ENDPOINT_URL_SNS: services.sns,
      AWS_ENDPOINT_URL_SES: faulted.ses,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
      POWERTOOLS_TRACE_ENABLED: process.env.POWERTOOLS_TRACE_ENABLED ?? 'false',
      POWERTOOLS_METRICS_DISABLED:
        options.metrics === undefined
          ? (process.env.POWERTOOLS_METRICS_DISABLED ?? 'true')
          : String(!options.metrics),
      [ENV.connectionsTable]: tables.connections,
      [ENV.notificationsTable]: tables.notifications,
      [ENV.callbackUrl]: gateway.callbackUrl,
      [ENV.fanOutQueueUrl]: messaging.queues.fanOut.url,
      [ENV.fanOutDeadLetterQueueUrl]: messaging.queues.fanOut.deadLetterUrl,
      [ENV.emailQueueUrl]: messaging.queues.email.url,
      [ENV.emailDeadLetterQueueUrl]: messaging.queues.email.deadLetterUrl,
      [ENV.jwtSecret]: options.jwtSecret,
      // The one place that is not a deployed stage: the dev secret is allowed here.
      [ENV.stage]: LOCAL_STAGE,
      [ENV.emailFrom]: process.env[ENV.emailFrom] ?? 'herald@localhost',
      ...frameRate,
      [ENV.sesConfigurationSet]: LOCAL_CONFIGURATION_SET,
    });
    handlers.current = await loadHandlers();

    const pollSeconds = options.pollSeconds ?? 1;
    for (const [name, queue, handler] of [
      ['fan-out', TOPOLOGY.queues.fanOut, handlers.current.fanOut],
      ['email', TOPOLOGY.queues.email, handlers.current.email],
    ] as const) {
      const wiring = name === 'fan-out' ? messaging.queues.fanOut : messaging.queues.email;
      const runner = startSqsRunner({
        sqs,
        queueUrl: wiring.url,
        queueArn: wiring.arn,
        functionName: `herald-${name}`,
        handler,
        batchSize: queue.batchSize,
        maxBatchingWindowMs: queue.maxBatchingWindowSeconds * 1000,
        waitTimeSeconds: pollSeconds,
        // As Lambda's SQS event source starts: five batches in flight at once.
        concurrency: LAMBDA_SQS_POLLERS,
        log: quietRunnerLog(log),
        faults: faults?.handlers ? handlerFaults(faults, `herald-${name}`, tally) : undefined,
      });
      stops.push(() => runner.stop());
    }

    // DynamoDB Local runs no TTL and has no stream consumer: the sweeper stands in for both.
    const sweeperClient = new DynamoDBClient({
      endpoint: services.dynamodb,
      region: REGION,
      credentials,
    });
    const sweeper = startTtlSweeper({
      client: sweeperClient,
      tableName: tables.notifications,
      handler: handlers.current.inboxExpiry,
      intervalMs: options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_MS,
      region: REGION,
      log,
    });
    stops.push(async () => {
      await sweeper.stop();
      sweeperClient.destroy();
    });

    const sweeps = startScheduledSweeps(handlers.current, options, log);
    stops.push(() => sweeps.stop());

    const http = await startHttpServer({
      port: options.ports.http,
      host,
      jwtSecret: options.jwtSecret,
      config: {
        websocketUrl: gateway.url,
        sesViewerUrl: services.sesViewer,
        topicArn: messaging.topicArn,
      },
      sns,
      httpApi: handlers.current.httpApi,
    });
    stops.push(() => http.stop());

    return {
      urls: {
        http: http.url,
        websocket: gateway.url,
        callback: gateway.callbackUrl,
        sns: services.sns,
        sqs: services.sqs,
        dynamodb: services.dynamodb,
        ses: services.ses,
        sesViewer: services.sesViewer,
        eventbridge: eventBridge.url,
      },
      topicArn: messaging.topicArn,
      queues: messaging.queues,
      tables,
      async injectSesFeedback(feedback) {
        const topicArn = `arn:aws:sns:${REGION}:000000000000:herald-ses-feedback`;
        const message = JSON.stringify(sesEventOf(feedback));
        await required(handlers.current).sesFeedback(snsEventOf(topicArn, message));
      },
      injectedFaults: () => tally.snapshot(),
      sweepExpiredConnections: () => sweeps.connections.sweep(),
      sweepSnoozed: () => sweeps.snoozes.sweep(),
      cutOff: (tenant, userId) => required(handlers.current).cutOff({ tenant, userId }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startEmulators(
  ports: LocalPorts,
  host: string,
  stops: Array<() => Promise<void>>,
): Promise<ServiceEndpoints> {
  const dynamo = await startDynamoDbLocal({ port: ports.dynamodb, host });
  stops.push(() => dynamo.stop());
  const fauxqs = await startFauxqs({ port: ports.sqs, host, logger: false });
  stops.push(() => fauxqs.stop());
  const ses = await startSesServer({ port: ports.ses, host });
  stops.push(() => ses.stop());
  const queues = `http://${host}:${fauxqs.port}`;
  return { dynamodb: dynamo.endpoint, sqs: queues, sns: queues, ses: ses.url, sesViewer: ses.url };
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('handlers are not loaded yet');
  return value;
}

/** The runners' own chatter stays out of the console; warnings and errors do not. */
function quietRunnerLog(log: (message: string) => void) {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => log(`sqs runner: ${message}`),
    error: (message: string) => log(`sqs runner: ${message}`),
  };
}
