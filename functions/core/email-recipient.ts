/**
 * Mails one notification to one recipient, at most once per (notification, recipient) as
 * far as SES allows: it claims the mail in the mail log before sending and marks it sent
 * after. A concurrent delivery of the same notification finds the claim and leaves the
 * recipient to its holder; a holder that died leaves a claim whose lease runs out, and the
 * retry of its message claims it again.
 *
 * The one window left: a sender that dies after SES accepted the mail and before it was
 * marked sent. Its retry, once the lease has run out, mails again (SES has no idempotency
 * key). So mail is at least once, and more than once only across a crash in that window.
 */
import { type BackoffPolicy, backoff } from './backoff';
import { isUserOnline } from './connections';
import { composeMail } from './email-compose';
import { RetryableError } from './errors';
import type { Notification, Preferences } from './model';
import type { Pacer } from './pacer';
import type { Clock, ConnectionStore, Directory, Mailer, MailLog, PreferenceStore } from './ports';
import { resolveChannels } from './preferences';
import type { SuppressionList } from './suppression';

export type SkipReason =
  | 'no_email_channel'
  | 'topic_audience'
  | 'no_address'
  | 'already_sent'
  /** Another delivery of the same notification holds the claim and is mailing the user. */
  | 'being_sent'
  /** The user (or the tenant's defaults) set email to `never` for this type. */
  | 'preference_never'
  /** Email is `offline` for this type and the user had a live connection at send time. */
  | 'user_online'
  /** The address hard-bounced or complained before: on the suppression list. */
  | 'suppressed';

export type RecipientOutcome =
  /** Mailed; `recorded` false when marking it sent failed (see the module comment). */
  | { kind: 'sent'; recorded: boolean }
  | { kind: 'skipped'; reason: SkipReason }
  /** SES kept throttling: not mailed; `released` false when the claim could not be given up. */
  | { kind: 'throttled'; released: boolean }
  | { kind: 'failed'; error: unknown };

export interface RecipientMailerDeps {
  directory: Pick<Directory, 'emailOf'>;
  mailLog: MailLog;
  mailer: Mailer;
  preferences: Pick<PreferenceStore, 'user'>;
  connections: Pick<ConnectionStore, 'listForUser'>;
  /** Addresses not to mail (SES bounces and complaints); none are suppressed without it. */
  suppressions?: Pick<SuppressionList, 'suppressed'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  pacer: Pacer;
  settings: {
    /** How long a claim keeps other senders off: longer than a send can take. */
    leaseMs: number;
    /** Retries of a throttled send inside the invocation before it is handed on. */
    throttleRetries: number;
    throttleBackoff: BackoffPolicy;
  };
}

/** One recipient of one notification, as one sender (`claimant`) sees it. */
export interface RecipientMail {
  tenant: string;
  notification: Notification;
  userId: string;
  tenantDefaults: Preferences | undefined;
  claimant: string;
  /** When the mail record goes (epoch s): the end of the idempotency horizon. */
  expiresAt: number;
}

export function createRecipientMailer(deps: RecipientMailerDeps) {
  const { settings } = deps;

  /** Sends through the pacer, retrying throttled sends with backoff; false if still throttled. */
  async function sendPaced(to: string, notification: Notification): Promise<boolean> {
    const mail = composeMail(to, notification);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0)
        await backoff(attempt, settings.throttleBackoff, (ms) => deps.clock.sleep(ms));
      await deps.pacer.wait();
      try {
        await deps.mailer.send(mail);
        return true;
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (attempt >= settings.throttleRetries) return false;
      }
    }
  }

  async function mailClaimed(job: RecipientMail, address: string): Promise<RecipientOutcome> {
    const { tenant, notification, userId, claimant } = job;
    const release = async (): Promise<boolean> => {
      try {
        await deps.mailLog.release(tenant, userId, notification.id, claimant);
        return true;
      } catch {
        return false;
      }
    };
    let sent: boolean;
    try {
      sent = await sendPaced(address, notification);
    } catch (error) {
      await release();
      return { kind: 'failed', error };
    }
    if (!sent) return { kind: 'throttled', released: await release() };
    try {
      return {
        kind: 'sent',
        recorded: await deps.mailLog.markSent(tenant, userId, notification.id, claimant),
      };
    } catch {
      return { kind: 'sent', recorded: false };
    }
  }

  return async function mailRecipient(job: RecipientMail): Promise<RecipientOutcome> {
    const { tenant, notification, userId } = job;
    try {
      const userPreferences = await deps.preferences.user(tenant, userId);
      const { email } = resolveChannels(notification.type, userPreferences, job.tenantDefaults);
      if (email === 'never') return { kind: 'skipped', reason: 'preference_never' };
      const address = await deps.directory.emailOf(tenant, userId);
      if (!address) return { kind: 'skipped', reason: 'no_address' };
      // Before claiming: a suppressed address leaves no mail record behind.
      if (await deps.suppressions?.suppressed(address)) {
        return { kind: 'skipped', reason: 'suppressed' };
      }
      // Last before claiming, so "offline" means offline at send time.
      if (email === 'offline' && (await isUserOnline(deps.connections, tenant, userId))) {
        return { kind: 'skipped', reason: 'user_online' };
      }
      const now = deps.clock.now();
      const claim = await deps.mailLog.claim(tenant, userId, notification.id, {
        claimant: job.claimant,
        leaseUntil: now + settings.leaseMs,
        now,
        expiresAt: job.expiresAt,
      });
      if (claim === 'sent') return { kind: 'skipped', reason: 'already_sent' };
      if (claim === 'held') return { kind: 'skipped', reason: 'being_sent' };
      return await mailClaimed(job, address);
    } catch (error) {
      return { kind: 'failed', error };
    }
  };
}

export type RecipientMailer = ReturnType<typeof createRecipientMailer>;
