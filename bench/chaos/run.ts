/**
 * One chaos run: the local stack started in-process with every fault on, devices connected,
 * the plan published through SNS in three phases (some devices offline in the middle one,
 * resuming after it), duplicates and invalid envelopes among them; then, once the queues
 * have been quiet for a while, what every inbox, badge, device, mailbox and DLQ holds.
 */
import { randomBytes } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { signDevToken } from '#local/dev-token';
import { type FaultPlan, type LocalStack, startLocalStack } from '#local/stack';
import { type CheckRow, runChecks } from './checks';
import { connectWithRetries, Device, inTurns } from './devices';
import { type DeadLetter, drainDeadLetters, mailsSent, readInbox, waitQuiet } from './observe';
import type { ChaosOptions } from './options';
import { createPublisher, thirds } from './publisher';
import { type ChaosPlan, planChaos } from './scenario';

export interface ChaosResult {
  options: ChaosOptions;
  plan: ChaosPlan;
  rows: CheckRow[];
  /** What the stack's fault injection points injected, by fault. */
  injected: Record<string, number>;
  /** Everything the dead-letter queues held at the end. */
  deadLetters: DeadLetter[];
  /** Seconds from the first publish until the queues were quiet. */
  drainSeconds: number;
  /** Warnings and errors the stack logged (failed batches, mostly the faults' doing). */
  stackWarnings: number;
  publishRetries: number;
  /** Devices that went offline and came back with `resume`. */
  resumedDevices: number;
  passed: boolean;
}

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Sockets opened (or resumed) at once. */
const HANDSHAKES_AT_ONCE = 25;
/** How long the run waits for a phase to settle before moving on anyway, ms. */
const PHASE_SETTLE_MS = 120_000;

export async function runChaos(
  options: ChaosOptions,
  log: (message: string) => void = () => undefined,
): Promise<ChaosResult> {
  const plan = planChaos(options);
  const deadline = Date.now() + options.deadlineSeconds * 1000;
  const secret = randomBytes(32).toString('hex');
  let stackWarnings = 0;
  const faults: FaultPlan | undefined = options.noFaults ? undefined : options.faults;
  const stack = await startLocalStack({
    ports: { http: 0, websocket: 0, sqs: 0, dynamodb: 0, ses: 0 },
    jwtSecret: secret,
    pollSeconds: 1,
    faults,
    log: () => {
      stackWarnings++;
    },
  });
  const sns = new SNSClient({
    endpoint: stack.urls.sns,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  const sqs = new SQSClient({
    endpoint: stack.urls.sqs,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  const devices: Device[] = [];
  try {
    const tokens = await Promise.all(
      plan.users.map((user) =>
        signDevToken({ userId: user.userId, tenant: plan.tenant, email: user.email, secret }),
      ),
    );
    for (const device of plan.devices) {
      devices.push(
        new Device(`${stack.urls.websocket}/?token=${tokens[device.user]}`, device.user),
      );
    }
    await inTurns(devices, HANDSHAKES_AT_ONCE, (device) =>
      connectWithRetries(() => device.connect()),
    );
    log(`chaos: ${devices.length} devices of ${plan.users.length} users connected`);

    const result = await drive(stack, sns, sqs, plan, options, devices, deadline, log);
    const inboxes = new Array(plan.users.length);
    await inTurns([...plan.users.keys()], 16, async (user) => {
      inboxes[user] = await readInbox(stack.urls.http, tokens[user] as string);
    });
    const deadLetters = await drainDeadLetters(sqs, {
      'fan-out': stack.queues.fanOut.deadLetterUrl,
      email: stack.queues.email.deadLetterUrl,
    });
    const rows = [
      {
        check: 'queues drained before the deadline',
        figures: result.drained
          ? `quiet ${result.drainSeconds.toFixed(0)} s after the first publish`
          : `still busy after ${options.deadlineSeconds} s`,
        pass: result.drained,
      },
      ...runChecks(plan, {
        inboxes,
        markedRead: result.markedRead,
        devices: devices.map((device) => device.tally),
        mails: await mailsSent(stack.urls.ses),
        deadLetters,
      }),
    ];
    return {
      options,
      plan,
      rows,
      injected: stack.injectedFaults(),
      deadLetters,
      drainSeconds: result.drainSeconds,
      stackWarnings,
      publishRetries: result.publishRetries,
      resumedDevices: devices.filter((device) => device.tally.resumed).length,
      passed: rows.every((row) => row.pass),
    };
  } finally {
    for (const device of devices) device.close();
    sns.destroy();
    sqs.destroy();
    await stack.stop();
  }
}

/** Publishes the plan in three phases around the offline devices; waits for quiet. */
async function drive(
  stack: LocalStack,
  sns: SNSClient,
  sqs: SQSClient,
  plan: ChaosPlan,
  options: ChaosOptions,
  devices: Device[],
  deadline: number,
  log: (message: string) => void,
) {
  const publisher = createPublisher(sns, stack.topicArn, options.publishConcurrency);
  const texts = (indexes: readonly number[]) =>
    indexes.map((index) => JSON.stringify(plan.envelopes[index]?.body));
  const phases = thirds([...plan.envelopes.keys()]);
  const duplicated = new Set(plan.duplicates);
  const phaseTexts = phases.map((phase, p) => [
    ...texts(phase),
    // A publisher's retries: the same envelopes again, right behind the originals.
    ...texts(phase.filter((index) => duplicated.has(index))),
    ...plan.invalid.filter((_, i) => i % phases.length === p).map((invalid) => invalid.text),
  ]);
  const sourceQueues = [stack.queues.fanOut.url, stack.queues.email.url];
  const received = () => devices.reduce((sum, device) => sum + device.tally.received.size, 0);
  const settle = () =>
    waitQuiet(sqs, sourceQueues, Math.min(deadline, Date.now() + PHASE_SETTLE_MS), received, 2);
  const started = Date.now();

  await publisher.publish(phaseTexts[0] ?? []);
  await settle();
  // Only a device that has seen a notification has a cursor to resume from.
  const leaving = devices.filter(
    (device, i) => plan.devices[i]?.goesOffline && device.cursor !== undefined,
  );
  leaving.forEach((device, i) => {
    device.disconnect(i % 2 === 1);
  });
  log(`chaos: phase 1 published; ${leaving.length} devices went offline`);

  await publisher.publish(phaseTexts[1] ?? []);
  await settle();
  await inTurns(leaving, HANDSHAKES_AT_ONCE, (device) => connectWithRetries(() => device.resume()));
  const markedRead = await markSomeRead(plan, devices);
  log('chaos: phase 2 published; the offline devices resumed, some notifications marked read');

  await publisher.publish(phaseTexts[2] ?? []);
  log('chaos: phase 3 published; waiting for the queues to be quiet');
  const drained = await waitQuiet(sqs, sourceQueues, deadline, received);
  return {
    drained,
    drainSeconds: (Date.now() - started) / 1000,
    publishRetries: publisher.retries,
    markedRead,
  };
}

/** Each user's first device marks every fourth notification it has read, over its socket. */
async function markSomeRead(plan: ChaosPlan, devices: Device[]): Promise<Map<number, Set<string>>> {
  const marked = new Map<number, Set<string>>();
  const first = devices.filter((device, i) => plan.devices[i - 1]?.user !== device.tally.user);
  await inTurns(first, HANDSHAKES_AT_ONCE, async (device) => {
    const ids = [...device.tally.received]
      .sort()
      .filter((_, i) => i % 4 === 0)
      .slice(0, 100);
    if (ids.length === 0) return;
    await device.markRead(ids);
    marked.set(device.tally.user, new Set(ids));
  });
  return marked;
}
