/**
 * Email at any audience size: a big audience split into tasks, each invocation bounded by
 * its budget, SES's throttling handed on, and everyone mailed exactly once.
 */
import { describe, expect, it } from 'vitest';
import { createEmailSender, type EmailSettings } from '#core/email';
import type { EmailTask } from '#core/email-tasks';
import { parseEnvelope } from '#core/envelope';
import { RetryableError } from '#core/errors';
import type { Mail, Mailer } from '#core/ports';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDirectory,
  FakeEmailContinuations,
  FakeEventLedger,
  FakeMailLog,
  FakePreferenceStore,
} from '#test/support/fakes';

const PUBLISHED_AT = Date.parse('2026-11-23T12:00:00.000Z');
const BATCH_SIZE = 10;
const SETTINGS: Partial<EmailSettings> = { recipientsPerInvocation: 50, recipientsPerTask: 5 };

/** SES that throttles a fixed fraction of sends, drawn from a seeded sequence. */
class ThrottlingSes implements Mailer {
  readonly mails: Mail[] = [];
  throttled = 0;
  private seed = 42;
  constructor(private readonly fraction: number) {}

  async send(mail: Mail): Promise<void> {
    // A linear congruential sequence: the same "random" throttles on every run.
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2 ** 31;
    if (this.seed / 2 ** 31 < this.fraction) {
      this.throttled++;
      throw new RetryableError('Maximum sending rate exceeded.');
    }
    this.mails.push(mail);
  }
}

const users = (count: number, prefix = 'u') =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

function envelopeTo(to: string[], id = 'evt-big') {
  return parseEnvelope({
    id,
    type: 'digest.ready',
    tenant: 'acme',
    to: { users: to },
    channels: ['email'],
  });
}

async function setup(options: { throttle?: number; settings?: Partial<EmailSettings> } = {}) {
  const clock = new FakeClock(PUBLISHED_AT);
  const directory = new FakeDirectory();
  const ses = new ThrottlingSes(options.throttle ?? 0);
  const continuations = new FakeEmailContinuations();
  const sender = createEmailSender({
    directory,
    mailLog: new FakeMailLog(() => clock.now()),
    mailer: ses,
    preferences: new FakePreferenceStore(),
    connections: new FakeConnectionStore(),
    ledger: new FakeEventLedger(),
    idempotencySeconds: 86_400,
    continuations,
    clock,
    settings: { ...SETTINGS, ...options.settings },
  });
  const addresses = async (ids: string[]) => {
    for (const id of ids) await directory.rememberEmail('acme', id, `${id}@example.com`);
  };
  return { clock, ses, continuations, sender, addresses };
}

describe('email to a big audience', () => {
  it('mails 1,000 recipients exactly once, in bounded invocations, while SES throttles', async () => {
    const { ses, continuations, sender, addresses } = await setup({ throttle: 0.3 });
    const audience = users(1000);
    await addresses(audience);

    // The first invocation gets the published envelope; every later one a batch of tasks.
    const perInvocation: number[] = [];
    let mailed = 0;
    const first = await sender.publish(envelopeTo(audience), PUBLISHED_AT);
    expect(first.sent.length).toBeLessThanOrEqual(50);
    expect(first.handedOn).toBe(1000 - first.sent.length - first.skipped.length);
    perInvocation.push(ses.mails.length);
    mailed = ses.mails.length;
    let delayed = 0;
    for (let invocation = 0; continuations.tasks.length > 0; invocation++) {
      if (invocation > 1000) throw new Error('the tasks never ran out');
      delayed += continuations.tasks
        .slice(0, BATCH_SIZE)
        .filter((entry) => (entry.delaySeconds ?? 0) > 0).length;
      const batch: EmailTask[] = continuations.take(BATCH_SIZE);
      const budget = sender.newBudget();
      const reports = await Promise.all(batch.map((task) => sender.run(task, budget)));
      expect(reports.flatMap((report) => report.failed)).toEqual([]);
      perInvocation.push(ses.mails.length - mailed);
      mailed = ses.mails.length;
    }

    const to = ses.mails.map((mail) => mail.to);
    expect(to).toHaveLength(1000);
    expect(new Set(to).size).toBe(1000);
    expect(Math.max(...perInvocation)).toBeLessThanOrEqual(50);
    // SES did throttle, and some slices outlasted the retries and were handed on delayed.
    expect(ses.throttled).toBeGreaterThan(100);
    expect(delayed).toBeGreaterThan(0);
  });

  it('shares one budget among the records of an invocation and hands the rest on', async () => {
    const { ses, continuations, sender, addresses } = await setup();
    const a = users(40, 'a');
    const b = users(40, 'b');
    await addresses([...a, ...b]);
    const budget = sender.newBudget();
    const reports = await Promise.all([
      sender.publish(envelopeTo(a, 'evt-a'), PUBLISHED_AT, budget),
      sender.publish(envelopeTo(b, 'evt-b'), PUBLISHED_AT, budget),
    ]);
    expect(ses.mails).toHaveLength(50);
    expect(reports.map((report) => report.handedOn).reduce((x, y) => x + y)).toBe(30);
    // Tasks of at most 5 recipients, covering exactly those not mailed, with the publish time.
    const handedOn = continuations.tasks.flatMap(({ task }) =>
      'users' in task.envelope.to ? task.envelope.to.users : [],
    );
    expect(continuations.tasks.every(({ task }) => task.publishedAt === PUBLISHED_AT)).toBe(true);
    expect(continuations.tasks.every(({ task }) => task.attempt === 0)).toBe(true);
    expect(Math.max(...continuations.tasks.map(({ task }) => recipients(task).length))).toBe(5);
    const mailedIds = ses.mails.map((mail) => mail.to.replace('@example.com', ''));
    expect([...handedOn, ...mailedIds].sort()).toEqual([...a, ...b].sort());
  });

  it('mails nobody twice when a task is run twice (a redelivery)', async () => {
    const { ses, continuations, sender, addresses } = await setup();
    const audience = users(60);
    await addresses(audience);
    await sender.publish(envelopeTo(audience), PUBLISHED_AT);
    const tasks = continuations.take(100);
    for (const task of [...tasks, ...tasks]) await sender.run(task);
    expect(ses.mails).toHaveLength(60);
    expect(new Set(ses.mails.map((mail) => mail.to)).size).toBe(60);
  });

  it('hands a throttled slice on with backoff, and reports it failed once handed on too often', async () => {
    const { ses, continuations, sender, addresses } = await setup({
      throttle: 1,
      settings: { maxHandOns: 2 },
    });
    const audience = users(3);
    await addresses(audience);
    const first = await sender.publish(envelopeTo(audience), PUBLISHED_AT);
    // The first recipient stays throttled through the retries: the slice waits with it.
    expect(first.throttled).toBe(3);
    expect(first.sent).toEqual([]);
    expect(continuations.tasks).toHaveLength(1);
    const [handed] = continuations.take(1);
    expect(handed?.attempt).toBe(1);
    expect(recipients(handed as EmailTask)).toEqual(audience);

    const second = await sender.run(handed as EmailTask);
    expect(second.throttled).toBe(3);
    const [again] = continuations.take(1);
    expect(again?.attempt).toBe(2);

    const third = await sender.run(again as EmailTask);
    expect(third.failed.map((failure) => failure.userId)).toEqual(audience);
    expect(continuations.tasks).toEqual([]);
    expect(ses.mails).toEqual([]);
  });
});

function recipients(task: EmailTask): readonly string[] {
  return 'users' in task.envelope.to ? task.envelope.to.users : [];
}
