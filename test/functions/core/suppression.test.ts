import { describe, expect, it } from 'vitest';
import { createEmailSender } from '#core/email';
import { parseEnvelope } from '#core/envelope';
import {
  InvalidFeedbackError,
  normalizeAddress,
  type SuppressionRecord,
  suppressionsFrom,
} from '#core/suppression';
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

const NOW = Date.parse('2026-12-01T10:00:00.000Z');

function bounce(bounceType: string, addresses: string[], key = 'eventType') {
  return {
    [key]: 'Bounce',
    bounce: {
      bounceType,
      bounceSubType: 'General',
      bouncedRecipients: addresses.map((emailAddress) => ({ emailAddress, status: '5.1.1' })),
      timestamp: '2026-12-01T09:59:00.000Z',
      feedbackId: 'fb-1',
    },
    mail: { messageId: 'm-1' },
  };
}

describe('suppressionsFrom', () => {
  it('suppresses each recipient of a Permanent bounce, lower-cased, with the bounce types', () => {
    expect(suppressionsFrom(bounce('Permanent', ['Ann@Example.com', 'bo@x.org']), NOW)).toEqual([
      {
        address: 'ann@example.com',
        reason: 'bounce',
        bounceType: 'Permanent',
        bounceSubType: 'General',
        at: Date.parse('2026-12-01T09:59:00.000Z'),
        feedbackId: 'fb-1',
      },
      expect.objectContaining({ address: 'bo@x.org', reason: 'bounce' }),
    ]);
  });

  it('reads an identity notification (notificationType) as well as a configuration set event', () => {
    expect(
      suppressionsFrom(bounce('Permanent', ['a@x.org'], 'notificationType'), NOW),
    ).toHaveLength(1);
  });

  it.each(['Transient', 'Undetermined'])('suppresses nobody for a %s bounce', (type) => {
    expect(suppressionsFrom(bounce(type, ['a@x.org']), NOW)).toEqual([]);
  });

  it('suppresses each complainant, with the time now when SES gave none', () => {
    const complaint = {
      eventType: 'Complaint',
      complaint: { complainedRecipients: [{ emailAddress: 'c@x.org' }] },
    };
    expect(suppressionsFrom(complaint, NOW)).toEqual([
      {
        address: 'c@x.org',
        reason: 'complaint',
        at: NOW,
        complaintFeedbackType: undefined,
        feedbackId: undefined,
      },
    ]);
  });

  it('ignores other SES events, and refuses what is not SES feedback', () => {
    expect(suppressionsFrom({ eventType: 'Delivery', delivery: {} }, NOW)).toEqual([]);
    expect(() => suppressionsFrom('nope', NOW)).toThrow(InvalidFeedbackError);
    expect(() =>
      suppressionsFrom({ eventType: 'Bounce', bounce: { bounceType: 'Permanent' } }, NOW),
    ).toThrow(/bounce\.bouncedRecipients/);
  });

  it('normalizes a display-name address to its bare, lower-cased form', () => {
    expect(normalizeAddress(' Ann <Ann@Example.COM> ')).toBe('ann@example.com');
  });
});

describe('the email sender and the suppression list', () => {
  it('skips a suppressed address as "suppressed", claiming nothing, and mails the rest', async () => {
    const directory = new FakeDirectory();
    const clock = new FakeClock(NOW);
    const mailLog = new FakeMailLog(() => clock.now());
    const mailer = new FakeMailer();
    await directory.rememberEmail('acme', 'alice', 'Alice@Example.com');
    await directory.rememberEmail('acme', 'bob', 'bob@example.com');
    const list = new Map<string, SuppressionRecord>([
      ['alice@example.com', { address: 'alice@example.com', reason: 'bounce', at: NOW }],
    ]);
    const sender = createEmailSender({
      directory,
      mailLog,
      mailer,
      preferences: new FakePreferenceStore(),
      connections: new FakeConnectionStore(),
      suppressions: { suppressed: async (address) => list.get(normalizeAddress(address)) },
      ledger: new FakeEventLedger(),
      idempotencySeconds: 86_400,
      continuations: new FakeEmailContinuations(),
      clock,
    });
    const envelope = parseEnvelope({
      id: 'evt-1',
      type: 'comment.created',
      tenant: 'acme',
      to: { users: ['alice', 'bob'] },
      channels: ['email'],
    });
    const report = await sender.publish(envelope, NOW);
    expect(report.sent).toEqual(['bob']);
    expect(report.skipped).toEqual([{ userId: 'alice', reason: 'suppressed' }]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });
});
