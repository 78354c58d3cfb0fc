/**
 * What a chaos run does, and the flags of `npm run chaos` that change it. The defaults are
 * the issue's: 10,000 notifications to 500 users, each with 1–3 devices (about 1,000
 * sockets), every fault on at once at a moderate rate.
 */

/** Fault rates, as `LocalStackOptions.faults` takes them (0 turns one off). */
export interface ChaosFaults {
  connections: { throttleRate: number; errorRate: number; slowRate: number; slowMs: number };
  dynamodb: { throttleRate: number };
  ses: { errorRate: number };
  handlers: { crashRate: number; overrunRate: number };
  seed: number;
}

export interface ChaosOptions {
  notifications: number;
  users: number;
  /** Each user gets between `minDevices` and `maxDevices` sockets. */
  minDevices: number;
  maxDevices: number;
  /** Share of devices that go offline during the middle third of the run, then resume. */
  offlineShare: number;
  /** Share of users whose token carries an email address. */
  emailUserShare: number;
  /** Share of the envelopes to a user with an address that ask for email too. */
  emailShare: number;
  /** Envelopes published a second time, same id (a publisher's retry). */
  duplicates: number;
  /** Deliberately invalid envelopes, which must end in the dead-letter queue. */
  invalid: number;
  /** Publishes in flight at once. */
  publishConcurrency: number;
  /** The whole run fails past this (a hang, never a speed verdict), s. */
  deadlineSeconds: number;
  /** Turns every fault off (a baseline run). */
  noFaults: boolean;
  faults: ChaosFaults;
  seed: number;
  /** Writes the table there too. */
  out?: string;
}

export const DEFAULT_FAULTS: ChaosFaults = {
  // One post in 20 to @connections is throttled, one in 50 fails, one in 20 is slow.
  connections: { throttleRate: 0.05, errorRate: 0.02, slowRate: 0.05, slowMs: 200 },
  // One DynamoDB request in 50 is refused with ProvisionedThroughputExceededException.
  dynamodb: { throttleRate: 0.02 },
  // One SES send in 20 fails.
  ses: { errorRate: 0.05 },
  // One SQS-runner invocation in 50 dies mid-batch, one in 100 overruns its timeout.
  handlers: { crashRate: 0.02, overrunRate: 0.01 },
  seed: 1,
};

export const DEFAULT_OPTIONS: ChaosOptions = {
  notifications: 10_000,
  users: 500,
  minDevices: 1,
  maxDevices: 3,
  offlineShare: 0.2,
  emailUserShare: 0.2,
  emailShare: 0.25,
  duplicates: 200,
  invalid: 6,
  publishConcurrency: 32,
  deadlineSeconds: 1_800,
  noFaults: false,
  faults: DEFAULT_FAULTS,
  seed: 1,
};

export const USAGE = `usage: npm run chaos -- [flags]
  --notifications N   envelopes published, one recipient each (default 10000)
  --users N           users (default 500)
  --devices A-B       sockets per user, between A and B (default 1-3)
  --offline F         share of devices offline mid-run, then resuming (default 0.2)
  --duplicates N      envelopes published twice, same id (default 200)
  --invalid N         invalid envelopes, due in the DLQ (default 6)
  --throttle F        @connections 429 rate (default 0.05)
  --push-errors F     @connections 500 rate (default 0.02)
  --slow F            @connections slow-answer rate (default 0.05)
  --dynamo-throttle F DynamoDB throttling rate (default 0.02)
  --ses-errors F      SES error rate (default 0.05)
  --crash F           handler invocations dying mid-batch (default 0.02)
  --overrun F         handler invocations overrunning their timeout (default 0.01)
  --no-faults         every fault off
  --seed N            seed of the scenario and of the faults (default 1)
  --deadline S        the run fails past S seconds (default 1800)
  --out FILE          also write the table to FILE`;

/** The flags that take a value: every `--flag` of USAGE but `--no-faults`. */
const VALUE_FLAGS = [...USAGE.matchAll(/^ {2}(--[a-z-]+) \S/gm)].map((match) => match[1]);

/** Parses `npm run chaos -- …` flags over the defaults; throws on anything unknown. */
export function parseChaosArgs(args: readonly string[]): ChaosOptions {
  const options: ChaosOptions = structuredClone(DEFAULT_OPTIONS);
  const { faults } = options;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] as string;
    if (flag === '--no-faults') {
      options.noFaults = true;
      continue;
    }
    if (!VALUE_FLAGS.includes(flag)) throw new Error(`unknown flag ${flag}\n${USAGE}`);
    const value = args[++i];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    const count = () => wholeNumber(flag, value);
    const rate = () => share(flag, value);
    switch (flag) {
      case '--notifications':
        options.notifications = count();
        break;
      case '--users':
        options.users = Math.max(1, count());
        break;
      case '--devices': {
        const [min = 0, max = min] = value.split('-').map((part) => wholeNumber(flag, part));
        if (min < 1 || max < min) throw new Error(`${flag}: A-B, 1 ≤ A ≤ B`);
        options.minDevices = min;
        options.maxDevices = max;
        break;
      }
      case '--offline':
        options.offlineShare = rate();
        break;
      case '--duplicates':
        options.duplicates = count();
        break;
      case '--invalid':
        options.invalid = count();
        break;
      case '--throttle':
        faults.connections.throttleRate = rate();
        break;
      case '--push-errors':
        faults.connections.errorRate = rate();
        break;
      case '--slow':
        faults.connections.slowRate = rate();
        break;
      case '--dynamo-throttle':
        faults.dynamodb.throttleRate = rate();
        break;
      case '--ses-errors':
        faults.ses.errorRate = rate();
        break;
      case '--crash':
        faults.handlers.crashRate = rate();
        break;
      case '--overrun':
        faults.handlers.overrunRate = rate();
        break;
      case '--seed':
        options.seed = count();
        faults.seed = options.seed;
        break;
      case '--deadline':
        options.deadlineSeconds = Math.max(1, count());
        break;
      case '--out':
        options.out = value;
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  return options;
}

function wholeNumber(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag}: not a whole number`);
  return number;
}

function share(flag: string, value: string): number {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new Error(`${flag}: a share between 0 and 1`);
  return number;
}
