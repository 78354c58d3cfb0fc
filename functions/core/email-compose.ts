import type { Notification } from './model';
import type { Mail } from './ports';

/** The mail of a notification to one address: subject, plain text and escaped HTML. */
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
