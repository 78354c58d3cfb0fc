import { describe, expect, it } from 'vitest';
import { composeMail, createEmailSender } from '../../../functions/core/email';
import { parseEnvelope, toNotification } from '../../../functions/core/envelope';
import { FakeDirectory, FakeEventLedger, FakeMailer, FakeMailLog } from '../../support/fakes';

const PUBLISHED_AT = Date.parse('2026-11-23T12:00:00.000Z');

function envelope(extra: object = {}) {
  return parseEnvelope({
    id: 'evt-1',
    type: 'comment.created',
    tenant: 'acme',
    to: { users: ['alice', 'bob', 'carol'] },
    title: 'New comment',
    body: 'Bob replied to your post',
    url: 'https://app.example/posts/42',
    channels: ['inapp', 'email'],
    ...extra,
  });
}

async function setup() {
  const directory = new FakeDirectory();
  const mailLog = new FakeMailLog();
  const mailer = new FakeMailer();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const sendEmails = createEmailSender({
    directory,
    mailLog,
    mailer,
    ledger: new FakeEventLedger(),
    retentionSeconds: 86_400,
  });
  return { directory, mailLog, mailer, sendEmails };
}

describe('sendEmails', () => {
  it('mails each recipient with a known address once and says why the others were not', async () => {
    const { mailer, sendEmails } = await setup();
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.sent).toEqual(['alice', 'bob']);
    expect(report.skipped).toEqual([{ userId: 'carol', reason: 'no_address' }]);
    expect(report.failed).toEqual([]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(mailer.mails[0]).toMatchObject({ subject: 'New comment' });
    expect(report.notificationId).toBe(toNotification(envelope(), PUBLISHED_AT).id);
  });

  it('skips an envelope without the email channel', async () => {
    const { mailer, sendEmails } = await setup();
    const report = await sendEmails(envelope({ channels: ['inapp'] }), PUBLISHED_AT);
    expect(report.skipped).toEqual([{ reason: 'no_email_channel' }]);
    expect(report.sent).toEqual([]);
    expect(mailer.mails).toEqual([]);
  });

  it('skips a topic audience', async () => {
    const { mailer, sendEmails } = await setup();
    const report = await sendEmails(envelope({ to: { topic: 'project.42' } }), PUBLISHED_AT);
    expect(report.skipped).toEqual([{ reason: 'topic_audience' }]);
    expect(mailer.mails).toEqual([]);
  });

  it('mails nobody twice for the same publish', async () => {
    const { mailer, sendEmails } = await setup();
    await sendEmails(envelope(), PUBLISHED_AT);
    const again = await sendEmails(envelope(), PUBLISHED_AT);
    expect(again.sent).toEqual([]);
    expect(again.skipped).toEqual([
      { userId: 'alice', reason: 'already_sent' },
      { userId: 'bob', reason: 'already_sent' },
      { userId: 'carol', reason: 'no_address' },
    ]);
    expect(mailer.mails).toHaveLength(2);
  });

  it('reports a failed send and, on the rerun, mails only the one that failed', async () => {
    const { mailer, mailLog, sendEmails } = await setup();
    mailer.failFor.add('alice@example.com');
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.failed.map((f) => f.userId)).toEqual(['alice']);
    expect(report.failed[0]?.error).toBeInstanceOf(Error);
    expect(report.sent).toEqual(['bob']);
    expect(await mailLog.wasSent('acme', 'alice', report.notificationId)).toBe(false);

    mailer.failFor.clear();
    const rerun = await sendEmails(envelope(), PUBLISHED_AT);
    expect(rerun.sent).toEqual(['alice']);
    expect(rerun.skipped).toContainEqual({ userId: 'bob', reason: 'already_sent' });
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com', 'alice@example.com']);
  });

  it('reports a directory failure for that user and goes on with the others', async () => {
    const { directory, mailer, sendEmails } = await setup();
    const lookup = directory.emailOf.bind(directory);
    directory.emailOf = async (tenant, userId) => {
      if (userId === 'alice') throw new Error('directory unavailable');
      return lookup(tenant, userId);
    };
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.failed.map((f) => f.userId)).toEqual(['alice']);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });

  it('looks addresses up in the envelope tenant only', async () => {
    const { mailer, sendEmails } = await setup();
    const report = await sendEmails(envelope({ tenant: 'other' }), PUBLISHED_AT);
    expect(report.sent).toEqual([]);
    expect(mailer.mails).toEqual([]);
  });
});

describe('composeMail', () => {
  const base = toNotification(envelope(), PUBLISHED_AT);

  it('uses the title as subject and body and url as text and html', () => {
    expect(composeMail('alice@example.com', base)).toEqual({
      to: 'alice@example.com',
      subject: 'New comment',
      text: 'Bob replied to your post\n\nhttps://app.example/posts/42',
      html:
        '<h1>New comment</h1><p>Bob replied to your post</p>' +
        '<p><a href="https://app.example/posts/42">https://app.example/posts/42</a></p>',
    });
  });

  it('falls back to the type when there is no title, body or url', () => {
    const bare = { ...base, title: undefined, body: undefined, url: undefined };
    expect(composeMail('a@example.com', bare)).toMatchObject({
      subject: 'comment.created',
      text: 'comment.created',
      html: '<h1>comment.created</h1>',
    });
  });

  it('escapes HTML in title, body and url', () => {
    const mail = composeMail('a@example.com', {
      ...base,
      title: '<script>alert(1)</script>',
      body: 'Tom & "Jerry" <b>it\'s</b>',
      url: 'https://app.example/?q="><img src=x onerror=alert(1)>',
    });
    expect(mail.html).not.toMatch(/<script|<b>|<img/);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;it&#39;s&lt;/b&gt;');
    expect(mail.html).toContain('href="https://app.example/?q=&quot;&gt;&lt;img');
    // Plain text needs no escaping.
    expect(mail.subject).toBe('<script>alert(1)</script>');
  });
});
