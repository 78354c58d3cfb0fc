/**
 * The email use case: mails a published envelope to each recipient whose address Herald
 * knows and whose preferences for its type allow email, exactly once per recipient (the
 * mail log's claims, see `email-recipient.ts`), at any audience size (tasks, see
 * `email-tasks.ts`), no faster than SES's send rate (the pacer).
 */
import { randomUUID } from 'node:crypto';
import type { BackoffPolicy } from './backoff';
import { backoffDelay } from './backoff';
import {
  createRecipientMailer,
  type RecipientMailerDeps,
  type SkipReason,
} from './email-recipient';
import {
  EmailBudget,
  type EmailContinuations,
  type EmailTask,
  recipientsOf,
  sliceTasks,
} from './email-tasks';
import { toNotification } from './envelope';
import type { Envelope } from './model';
import { createPacer } from './pacer';
import type { Clock, Directory, EventLedger, PreferenceStore } from './ports';

export type { SkipReason } from './email-recipient';

export interface EmailReport {
  notificationId: string;
  sent: string[];
  skipped: Array<{ userId?: string; reason: SkipReason }>;
  failed: Array<{ userId: string; error: unknown }>;
  /** Mailed, but marking them sent failed: a crash now would let a retry mail them again. */
  unrecorded: string[];
  /** Recipients handed on to tasks: past this invocation's budget, or throttled by SES. */
  handedOn: number;
  /** Of those, the ones SES throttled. */
  throttled: number;
}

export interface EmailSettings {
  /** Recipients one invocation takes on, across the records of its batch. */
  recipientsPerInvocation: number;
  /** Recipients per task handed on. */
  recipientsPerTask: number;
  /** SES sends per second (SES's default production quota is 14). */
  sendRatePerSecond: number;
  /** How long a claim keeps other senders off (ms): longer than an invocation may run. */
  leaseMs: number;
  /** Retries of a throttled send inside the invocation before it is handed on. */
  throttleRetries: number;
  throttleBackoff: BackoffPolicy;
  /** Delay of a task handed on because SES throttled it, by its attempt. */
  handOnBackoff: BackoffPolicy;
  /** Hand-ons of a throttled slice before its recipients are reported failed instead. */
  maxHandOns: number;
}

export const DEFAULT_EMAIL_SETTINGS: EmailSettings = {
  recipientsPerInvocation: 50,
  recipientsPerTask: 50,
  sendRatePerSecond: 14,
  // Twice the consumer's 30 s timeout: a claim older than that has lost its sender, and it
  // runs out well before the queue's 180 s visibility timeout lets the message be retried.
  leaseMs: 60_000,
  throttleRetries: 3,
  throttleBackoff: { baseDelayMs: 200, maxDelayMs: 2_000 },
  handOnBackoff: { baseDelayMs: 2_000, maxDelayMs: 900_000 },
  maxHandOns: 10,
};

export interface EmailDeps extends Omit<RecipientMailerDeps, 'pacer' | 'settings' | 'clock'> {
  directory: Pick<Directory, 'emailOf'>;
  ledger: EventLedger;
  /**
   * How long an envelope id is remembered (at least 24 hours in production): the horizon of
   * the event ledger and of the mail log alike. A mail record outlives the ledger's record
   * of its event, so within the horizon nobody is mailed twice.
   */
  idempotencySeconds: number;
  preferences: Pick<PreferenceStore, 'user' | 'tenantDefaults'>;
  continuations: EmailContinuations;
  clock: Pick<Clock, 'now' | 'sleep'>;
  settings?: Partial<EmailSettings>;
}

/** What one record mails: an envelope's recipients (or a task's slice of them). */
interface Slice {
  envelope: Envelope;
  publishedAt: number;
  attempt: number;
}

export function createEmailSender(deps: EmailDeps) {
  const settings: EmailSettings = { ...DEFAULT_EMAIL_SETTINGS, ...deps.settings };
  // One pacer for the sender's life (the container's), so back-to-back invocations share it.
  const pacer = createPacer(settings.sendRatePerSecond, deps.clock);
  const mailRecipient = createRecipientMailer({ ...deps, pacer, settings });
  const newBudget = (): EmailBudget => new EmailBudget(settings.recipientsPerInvocation);

  async function mailSlice(slice: Slice, budget: EmailBudget): Promise<EmailReport> {
    const { envelope, publishedAt } = slice;
    const notification = toNotification(envelope, publishedAt);
    const report: EmailReport = {
      notificationId: notification.id,
      sent: [],
      skipped: [],
      failed: [],
      unrecorded: [],
      handedOn: 0,
      throttled: 0,
    };
    const users = recipientsOf(envelope);
    const taken = budget.take(users.length);
    // Once per record, not per recipient: every recipient shares the tenant.
    const tenantDefaults =
      taken > 0 ? await deps.preferences.tenantDefaults(envelope.tenant) : undefined;
    const claimant = randomUUID();
    const expiresAt = Math.floor(deps.clock.now() / 1000) + deps.idempotencySeconds;
    let throttledFrom: number | undefined;
    let released = true;
    for (let index = 0; index < taken; index++) {
      const userId = users[index] as string;
      const outcome = await mailRecipient({
        tenant: envelope.tenant,
        notification,
        userId,
        tenantDefaults,
        claimant,
        expiresAt,
      });
      if (outcome.kind === 'sent') {
        report.sent.push(userId);
        if (!outcome.recorded) report.unrecorded.push(userId);
      } else if (outcome.kind === 'skipped')
        report.skipped.push({ userId, reason: outcome.reason });
      else if (outcome.kind === 'failed') report.failed.push({ userId, error: outcome.error });
      else {
        // SES is throttling: the rest of the slice waits with this recipient.
        throttledFrom = index;
        released = outcome.released;
        break;
      }
    }
    await handOn(slice, users.slice(taken), report);
    if (throttledFrom !== undefined) {
      await handOnThrottled(slice, users.slice(throttledFrom, taken), released, report);
    }
    return report;
  }

  /** The recipients past the budget, as tasks run as soon as an invocation takes them. */
  async function handOn(slice: Slice, rest: readonly string[], report: EmailReport) {
    if (rest.length === 0) return;
    const { envelope, publishedAt } = slice;
    await deps.continuations.enqueueMany(
      sliceTasks(envelope, publishedAt, rest, { size: settings.recipientsPerTask, attempt: 0 }),
    );
    report.handedOn += rest.length;
  }

  /**
   * The recipients SES throttled (and those after them), as one task delayed by backoff, or
   * failed once handed on too often. A claim not given up delays the task past its lease.
   */
  async function handOnThrottled(
    slice: Slice,
    users: readonly string[],
    released: boolean,
    report: EmailReport,
  ) {
    const attempt = slice.attempt + 1;
    if (attempt > settings.maxHandOns) {
      const error = new Error(`SES throttled ${users.length} mail(s) ${attempt} times`);
      for (const userId of users) report.failed.push({ userId, error });
      return;
    }
    const [task] = sliceTasks(slice.envelope, slice.publishedAt, users, {
      size: users.length,
      attempt,
    });
    if (!task) return;
    const backoffMs = backoffDelay(attempt, settings.handOnBackoff);
    const delayMs = released ? backoffMs : Math.max(backoffMs, settings.leaseMs);
    await deps.continuations.enqueue(task, Math.ceil(delayMs / 1000));
    report.handedOn += users.length;
    report.throttled += users.length;
  }

  function unmailable(envelope: Envelope, publishedAt: number, reason: SkipReason): EmailReport {
    const notificationId = toNotification(envelope, publishedAt).id;
    return {
      notificationId,
      sent: [],
      skipped: [{ reason }],
      failed: [],
      unrecorded: [],
      handedOn: 0,
      throttled: 0,
    };
  }

  return {
    /** A new invocation's budget, for `publish` and `run` calls that share it. */
    newBudget,

    /**
     * Mails a published envelope, as far as the budget goes, and hands the rest on. A failed
     * send is reported so the message is retried; the mail log keeps the retry from mailing
     * anyone twice.
     */
    async publish(
      envelope: Envelope,
      arrivedAt: number,
      budget: EmailBudget = newBudget(),
    ): Promise<EmailReport> {
      // The same notification id as the fan-out's, also when a publisher re-sends the id.
      const publishedAt = await deps.ledger.firstPublished(
        envelope.tenant,
        envelope.id,
        arrivedAt,
        Math.floor(arrivedAt / 1000) + deps.idempotencySeconds,
      );
      if (!envelope.channels.includes('email')) {
        return unmailable(envelope, publishedAt, 'no_email_channel');
      }
      if (!('users' in envelope.to)) return unmailable(envelope, publishedAt, 'topic_audience');
      return mailSlice({ envelope, publishedAt, attempt: 0 }, budget);
    },

    /** Mails a task's slice, as far as the budget goes, and hands the rest on. */
    run(task: EmailTask, budget: EmailBudget = newBudget()): Promise<EmailReport> {
      return mailSlice(task, budget);
    },
  };
}

export type EmailSender = ReturnType<typeof createEmailSender>;
