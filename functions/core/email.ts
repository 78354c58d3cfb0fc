import { isUserOnline } from './connections';
import { toNotification } from './envelope';
import type { Envelope, Notification } from './model';
import type {
  ConnectionStore,
  Directory,
  EventLedger,
  Mail,
  Mailer,
  MailLog,
  PreferenceStore,
} from './ports';
import { resolveChannels } from './preferences';

export type SkipReason =
  | 'no_email_channel'
  | 'topic_audience'
  | 'no_address'
  | 'already_sent'
  /** The user (or the tenant's defaults) set email to `never` for this type. */
  | 'preference_never'
  /** Email is `offline` for this type and the user had a live connection at send time. */
  | 'user_online';

export interface EmailReport {
  notificationId: string;
  sent: string[];
  skipped: Array<{ userId?: string; reason: SkipReason }>;
  failed: Array<{ userId: string; error: unknown }>;
}

export interface EmailDeps {
  directory: Directory;
  ledger: EventLedger;
  /** How long the event ledger remembers an id (the inbox's retention). */
  retentionSeconds: number;
  mailLog: MailLog;
  mailer: Mailer;
  preferences: Pick<PreferenceStore, 'user' | 'tenantDefaults'>;
  /** Asked only when a user wants email `offline`: are they connected right now? */
  connections: Pick<ConnectionStore, 'listForUser'>;
}

/**
 * Mails a published envelope to each recipient whose address Herald knows and whose
 * preferences for its type allow email. Every recipient it does not mail is reported with
 * the reason; a failed send is reported so the message is retried, and the mail log keeps
 * the retry from mailing anyone twice.
 */
export function createEmailSender(deps: EmailDeps) {
  return async function sendEmails(envelope: Envelope, arrivedAt: number): Promise<EmailReport> {
    // The same notification id as the fan-out's, also when a publisher re-sends the id.
    const publishedAt = await deps.ledger.firstPublished(
      envelope.tenant,
      envelope.id,
      arrivedAt,
      Math.floor(arrivedAt / 1000) + deps.retentionSeconds,
    );
    const notification = toNotification(envelope, publishedAt);
    const report: EmailReport = {
      notificationId: notification.id,
      sent: [],
      skipped: [],
      failed: [],
    };
    if (!envelope.channels.includes('email')) {
      report.skipped.push({ reason: 'no_email_channel' });
      return report;
    }
    if (!('users' in envelope.to)) {
      report.skipped.push({ reason: 'topic_audience' });
      return report;
    }
    // Once per envelope, not per recipient: every recipient shares the tenant.
    const tenantDefaults = await deps.preferences.tenantDefaults(envelope.tenant);
    for (const userId of envelope.to.users) {
      try {
        const userPreferences = await deps.preferences.user(envelope.tenant, userId);
        const { email } = resolveChannels(envelope.type, userPreferences, tenantDefaults);
        if (email === 'never') {
          report.skipped.push({ userId, reason: 'preference_never' });
          continue;
        }
        const address = await deps.directory.emailOf(envelope.tenant, userId);
        if (!address) {
          report.skipped.push({ userId, reason: 'no_address' });
          continue;
        }
        if (await deps.mailLog.wasSent(envelope.tenant, userId, notification.id)) {
          report.skipped.push({ userId, reason: 'already_sent' });
          continue;
        }
        // Last before sending, so "offline" means offline at send time.
        if (
          email === 'offline' &&
          (await isUserOnline(deps.connections, envelope.tenant, userId))
        ) {
          report.skipped.push({ userId, reason: 'user_online' });
          continue;
        }
        await deps.mailer.send(composeMail(address, notification));
        await deps.mailLog.recordSent(envelope.tenant, userId, notification.id);
        report.sent.push(userId);
      } catch (error) {
        report.failed.push({ userId, error });
      }
    }
    return report;
  };
}

export function composeMail(to: string, notification: Notification): Mail {
  const subject = notification.title ?? notification.type;
  const paragraphs = [notification.body, notification.url].filter(
    (part): part is string => typeof part === 'string' && part.length > 0,
  );
  const text = paragraphs.length > 0 ? paragraphs.join('\n\n') : subject;
  const html = [
    `<h1>${escapeHtml(subject)}</h1>`,
    notification.body ? `<p>${escapeHtml(notification.body)}</p>` : '',
    notification.url
      ? `<p><a href="${escapeHtml(notification.url)}">${escapeHtml(notification.url)}</a></p>`
      : '',
  ].join('');
  return { to, subject, text, html };
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
