import { describe, expect, it } from 'vitest';
import { createEmailSender } from '#core/email';
import { parseEnvelope, toNotification } from '#core/envelope';
import type { Preferences } from '#core/model';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDirectory,
  FakeEmailContinuations,
  FakeEventLedger,
  FakeMailer,
  FakeMailLog,
  FakePreferenceStore,
} from '#test/support/fakes';

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
  const clock = new FakeClock(PUBLISHED_AT);
  const mailLog = new FakeMailLog(() => clock.now());
  const mailer = new FakeMailer();
  const preferences = new FakePreferenceStore();
  const connections = new FakeConnectionStore();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const sender = createEmailSender({
    directory,
    mailLog,
    mailer,
    preferences,
    connections,
    ledger: new FakeEventLedger(),
    idempotencySeconds: 86_400,
    continuations: new FakeEmailContinuations(),
    clock,
  });
  return { directory, mailLog, mailer, preferences, connections, sendEmails: sender.publish };
}

async function goOnline(connections: FakeConnectionStore, userId: string, tenant = 'acme') {
  await connections.put(
    {
      connectionId: `${userId}-conn`,
      tenant,
      userId,
      topicPatterns: [],
      topics: [],
      connectedAt: PUBLISHED_AT,
    },
    PUBLISHED_AT / 1000 + 3600,
  );
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

describe('sendEmails with preferences', () => {
  const only = (email: 'always' | 'never' | 'offline'): Preferences => ({
    types: { 'comment.created': { email } },
  });

  it.each([
    ['never', false, { sent: [], skipped: [{ userId: 'alice', reason: 'preference_never' }] }],
    ['offline', true, { sent: [], skipped: [{ userId: 'alice', reason: 'user_online' }] }],
    ['offline', false, { sent: ['alice'], skipped: [] }],
    ['always', true, { sent: ['alice'], skipped: [] }],
    ['always', false, { sent: ['alice'], skipped: [] }],
  ] as const)('email %s, user online: %s', async (mode, online, expected) => {
    const { mailer, preferences, connections, sendEmails } = await setup();
    preferences.users.set('acme/alice', only(mode));
    if (online) await goOnline(connections, 'alice');
    const report = await sendEmails(envelope({ to: { users: ['alice'] } }), PUBLISHED_AT);
    expect({ sent: report.sent, skipped: report.skipped }).toEqual(expected);
    expect(report.failed).toEqual([]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(
      expected.sent.length > 0 ? ['alice@example.com'] : [],
    );
  });

  it('judges each recipient by their own preferences and presence', async () => {
    const { mailer, preferences, connections, sendEmails } = await setup();
    preferences.users.set('acme/alice', { channels: { email: 'offline' } });
    preferences.users.set('acme/bob', { channels: { email: 'offline' } });
    await goOnline(connections, 'alice');
    await goOnline(connections, 'bob', 'globex');
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.sent).toEqual(['bob']);
    expect(report.skipped).toEqual([
      { userId: 'alice', reason: 'user_online' },
      { userId: 'carol', reason: 'no_address' },
    ]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });

  it('applies tenant defaults beneath the user, reading them once per envelope', async () => {
    const { mailer, preferences, sendEmails } = await setup();
    preferences.tenants.set('acme', { types: { 'comment.created': { email: 'never' } } });
    preferences.users.set('acme/bob', only('always'));
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.sent).toEqual(['bob']);
    expect(report.skipped).toEqual([
      { userId: 'alice', reason: 'preference_never' },
      { userId: 'carol', reason: 'preference_never' },
    ]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
    expect(preferences.reads.filter((read) => read.startsWith('tenant'))).toEqual(['tenant acme']);
  });

  it('reads preferences of the envelope tenant only', async () => {
    const { preferences, sendEmails } = await setup();
    preferences.tenants.set('globex', { channels: { email: 'never' } });
    preferences.users.set('globex/alice', { channels: { email: 'never' } });
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.sent).toEqual(['alice', 'bob']);
  });

  it('ignores the in-app setting when deciding on email', async () => {
    const { preferences, sendEmails } = await setup();
    preferences.users.set('acme/alice', { channels: { inapp: false } });
    const report = await sendEmails(envelope({ to: { users: ['alice'] } }), PUBLISHED_AT);
    expect(report.sent).toEqual(['alice']);
  });

  it('reads no preferences for an envelope it would not mail anyway', async () => {
    const { preferences, sendEmails } = await setup();
    await sendEmails(envelope({ channels: ['inapp'] }), PUBLISHED_AT);
    await sendEmails(envelope({ to: { topic: 'project.42' } }), PUBLISHED_AT);
    expect(preferences.reads).toEqual([]);
  });

  it('counts a user online when a later page holds a connection (expired entries filtered)', async () => {
    const { preferences, mailer, sendEmails, connections } = await setup();
    preferences.users.set('acme/alice', only('offline'));
    const pages: Record<
      string,
      { items: Array<{ connectionId: string; userId: string }>; cursor?: string }
    > = {
      first: { items: [], cursor: 'second' },
      second: { items: [{ connectionId: 'c1', userId: 'alice' }] },
    };
    connections.listForUser = async (_tenant, _user, cursor) =>
      pages[cursor ?? 'first'] ?? { items: [] };
    const report = await sendEmails(envelope({ to: { users: ['alice'] } }), PUBLISHED_AT);
    expect(report.skipped).toEqual([{ userId: 'alice', reason: 'user_online' }]);
    expect(mailer.mails).toEqual([]);
  });

  it('mails an offline-only user on a redelivery that finds them gone offline', async () => {
    const { preferences, connections, mailer, sendEmails } = await setup();
    preferences.users.set('acme/alice', only('offline'));
    await goOnline(connections, 'alice');
    const first = await sendEmails(envelope({ to: { users: ['alice'] } }), PUBLISHED_AT);
    expect(first.skipped).toEqual([{ userId: 'alice', reason: 'user_online' }]);
    await connections.remove('alice-conn');
    const again = await sendEmails(envelope({ to: { users: ['alice'] } }), PUBLISHED_AT);
    expect(again.sent).toEqual(['alice']);
    expect(mailer.mails).toHaveLength(1);
  });

  it('reports a failed preference read for that user and goes on with the others', async () => {
    const { preferences, mailer, sendEmails } = await setup();
    const read = preferences.user.bind(preferences);
    preferences.user = async (tenant, userId) => {
      if (userId === 'alice') throw new Error('throttled');
      return read(tenant, userId);
    };
    const report = await sendEmails(envelope(), PUBLISHED_AT);
    expect(report.failed.map((failure) => failure.userId)).toEqual(['alice']);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });

  it('fails the whole envelope when tenant defaults cannot be read, mailing nobody', async () => {
    const { preferences, mailer, sendEmails } = await setup();
    preferences.tenantDefaults = async () => {
      throw new Error('throttled');
    };
    await expect(sendEmails(envelope(), PUBLISHED_AT)).rejects.toThrow('throttled');
    expect(mailer.mails).toEqual([]);
  });
});
