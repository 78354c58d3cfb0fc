/**
 * `npm run redrive -- fan-out|email [--dry-run] [--aws] [--stack HeraldData]`: moves the
 * dead letters of a consumer's queue back to the queue, and reports how many and their
 * `herald.reason`s. Locally (the default) against the running local stack's fauxqs, by
 * receive, send, delete; with `--aws` against the deployed stack, whose outputs name the
 * queues, with SQS's message-move task.
 */
import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type QueueName, TOPOLOGY } from '#config/topology';
import {
  messagesWaiting,
  peekReasons,
  type QueuePair,
  type RedriveReport,
  redriveByCopy,
  redriveByMoveTask,
} from './dlq-redrive';
import { runDirectly } from './run-directly';
import { quietSdkNodeNotice } from './settings';
import { readStackOutputs, requireOutput } from './stack-outputs';

const USAGE = 'usage: redrive fan-out|email [--dry-run] [--aws] [--stack HeraldData]';

const QUEUES: Record<string, QueueName> = { 'fan-out': 'fanOut', email: 'email' };

/** The stateful stack's outputs that name each queue pair (infra/stateful-stack.ts). */
const OUTPUT_KEYS: Record<QueueName, { url: string; deadLetterName: string }> = {
  fanOut: { url: 'FanOutQueueUrl', deadLetterName: 'FanOutDeadLetterQueueName' },
  email: { url: 'EmailQueueUrl', deadLetterName: 'EmailDeadLetterQueueName' },
};

export interface RedriveArgs {
  queue: QueueName;
  dryRun: boolean;
  aws: boolean;
  stack: string;
}

export function redriveArgs(args: string[]): RedriveArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      aws: { type: 'boolean', default: false },
      stack: { type: 'string', default: 'HeraldData' },
    },
    strict: true,
  });
  const [name, ...rest] = positionals;
  const queue = name === undefined ? undefined : QUEUES[name];
  if (queue === undefined || rest.length > 0) {
    throw new Error(`name one queue, fan-out or email\n${USAGE}`);
  }
  return {
    queue,
    dryRun: values['dry-run'] ?? false,
    aws: values.aws ?? false,
    stack: values.stack ?? 'HeraldData',
  };
}

/** The local stack's queues, found by their names in the shared topology. */
export async function localQueues(sqs: SQSClient, queue: QueueName): Promise<QueuePair> {
  const url = async (QueueName: string) => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
    if (!QueueUrl) throw new Error(`no queue ${QueueName}: is the local stack running?`);
    return QueueUrl;
  };
  const topology = TOPOLOGY.queues[queue];
  return { sourceUrl: await url(topology.name), deadLetterUrl: await url(topology.deadLetterName) };
}

/** Redrives in AWS: the reasons from a look at the queue, then SQS's message-move task. */
async function redriveInAws(sqs: SQSClient, args: RedriveArgs): Promise<RedriveReport> {
  const outputs = await readStackOutputs(args.stack);
  const keys = OUTPUT_KEYS[args.queue];
  requireOutput(outputs, keys.url, args.stack);
  const name = requireOutput(outputs, keys.deadLetterName, args.stack);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`no queue ${name}`);
  const reasons = await peekReasons(sqs, QueueUrl);
  const waiting = await messagesWaiting(sqs, QueueUrl);
  if (args.dryRun || waiting === 0) return { moved: waiting, reasons, dryRun: args.dryRun };
  const moved = await redriveByMoveTask(sqs, QueueUrl, { log: (line) => console.error(line) });
  return { moved, reasons, dryRun: false };
}

export function describeReport(queue: string, report: RedriveReport): string {
  const verb = report.dryRun ? 'would move' : 'moved';
  const lines = Object.entries(report.reasons)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `  ${count} × ${reason}`);
  return [`${verb} ${report.moved} message(s) back to ${queue}`, ...lines].join('\n');
}

async function main(): Promise<void> {
  quietSdkNodeNotice();
  const args = redriveArgs(process.argv.slice(2));
  const local = !args.aws && process.env.AWS_ENDPOINT_URL_SQS === undefined;
  const sqs = new SQSClient({
    useQueueUrlAsEndpoint: false,
    ...(local
      ? {
          endpoint: `http://localhost:${process.env.HERALD_SQS_PORT || 4566}`,
          region: TOPOLOGY.region,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  try {
    const report = args.aws
      ? await redriveInAws(sqs, args)
      : await redriveByCopy(sqs, await localQueues(sqs, args.queue), { dryRun: args.dryRun });
    console.log(describeReport(TOPOLOGY.queues[args.queue].name, report));
  } finally {
    sqs.destroy();
  }
}

if (runDirectly(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
