/**
 * Email exactly once per (envelope id, recipient): concurrent deliveries of one envelope,
 * a sender that dies after claiming, and one that dies after SES accepted the mail.
 */
import { describe, expect, it } from 'vitest';
import { createEmailSender, DEFAULT_EMAIL_SETTINGS } from '#core/email';
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
const LEASE_MS = DEFAULT_EMAIL_SETTINGS.leaseMs;

const envelope = parseEnvelope({
  id: 'evt-1',
  type: 'comment.created',
  tenant: 'acme',
  to: { users: ['alice', 'bob'] },
  title: 'New comment',
  channels: ['email'],
});

/** A mailer whose sends can be held at a gate, hang for ever (a crash), or be throttled. */
class ControlledMailer implements Mailer {
  readonly mails: Mail[] = [];
  waiting = 0;
  /** Sends wait here until `open()`. */
  private gate: Promise<void> | undefined;
  private openGate: () => void = () => {};
  /** The next `hangs` sends never return: their sender died while sending. */
  hangs = 0;
  /** The next `throttles` sends are throttled by SES. */
  throttles = 0;

  close(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  open(): void {
    this.openGate();
    this.gate = undefined;
  }

  async send(mail: Mail): Promise<void> {
    if (this.hangs > 0) {
      this.hangs--;
      return new Promise(() => {});
    }
    if (this.throttles > 0) {
      this.throttles--;
      throw new RetryableError('SES throttled the send');
    }
    if (this.gate) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    this.mails.push(mail);
  }
}

async function setup() {
  const clock = new FakeClock(PUBLISHED_AT);
  const mailLog = new FakeMailLog(() => clock.now());
  const mailer = new ControlledMailer();
  const directory = new FakeDirectory();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const continuations = new FakeEmailContinuations();
  const sender = createEmailSender({
    directory,
    mailLog,
    mailer,
    preferences: new FakePreferenceStore(),
    connections: new FakeConnectionStore(),
    ledger: new FakeEventLedger(),
    idempotencySeconds: 86_400,
    continuations,
    clock,
  });
  const mailed = () => mailer.mails.map((mail) => mail.to).sort();
  return { clock, mailLog, mailer, continuations, sender, mailed };
}

async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !check(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!check()) throw new Error('never happened');
}

describe('email exactly once per envelope id and recipient', () => {
  it('mails each recipient once when the same envelope is delivered three times at once', async () => {
    const { mailer, sender, mailed } = await setup();
    mailer.close();
    // Three publishes of one id (a publisher's retries), delivered side by side.
    const deliveries = [0, 5, 9].map((late) => sender.publish(envelope, PUBLISHED_AT + late));
    // Both recipients' sends are under way, each held by one delivery, before any returns.
    await until(() => mailer.waiting === 2);
    mailer.open();
    const reports = await Promise.all(deliveries);

    expect(mailed()).toEqual(['alice@example.com', 'bob@example.com']);
    expect(reports.flatMap((report) => report.sent).sort()).toEqual(['alice', 'bob']);
    expect(new Set(reports.map((report) => report.notificationId)).size).toBe(1);
    const skips = reports.flatMap((report) => report.skipped.map((skip) => skip.reason));
    expect(skips).toContain('being_sent');
    expect(reports.flatMap((report) => report.failed)).toEqual([]);
  });

  it('mails once more after a crash between claim and send, once the lease runs out', async () => {
    const { clock, mailer, sender, mailed } = await setup();
    mailer.hangs = 1;
    // The first delivery claims alice and dies inside the send: it never returns.
    void sender.publish(envelope, PUBLISHED_AT);
    await until(() => mailer.hangs === 0);

    // A redelivery while the dead sender's lease lasts leaves alice to it.
    const early = await sender.publish(envelope, PUBLISHED_AT);
    expect(early.skipped).toEqual([{ userId: 'alice', reason: 'being_sent' }]);
    expect(mailed()).toEqual(['bob@example.com']);

    clock.time += LEASE_MS;
    const retry = await sender.publish(envelope, PUBLISHED_AT);
    expect(retry.sent).toEqual(['alice']);
    expect(retry.skipped).toEqual([{ userId: 'bob', reason: 'already_sent' }]);

    clock.time += LEASE_MS;
    const again = await sender.publish(envelope, PUBLISHED_AT);
    expect(again.sent).toEqual([]);
    expect(mailed()).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('is at least once across a crash between the send and its record: one more mail, after the lease', async () => {
    const { clock, mailLog, sender, mailed } = await setup();
    // The sender dies after SES took alice's mail and before it was marked sent.
    const mark = mailLog.markSent.bind(mailLog);
    let dies = true;
    mailLog.markSent = (...args) => {
      if (!dies) return mark(...args);
      dies = false;
      return new Promise(() => {});
    };
    void sender.publish(envelope, PUBLISHED_AT);
    await until(() => !dies);
    expect(mailed()).toEqual(['alice@example.com']);

    // While the lease lasts, no redelivery mails alice again.
    const early = await sender.publish(envelope, PUBLISHED_AT);
    expect(early.skipped).toEqual([{ userId: 'alice', reason: 'being_sent' }]);

    // After it, the retry cannot know SES took the mail (SES has no idempotency key): it
    // mails alice a second time. This window, a crash between send and mark, is the only
    // way to a second mail, and the mark then ends it.
    clock.time += LEASE_MS;
    const retry = await sender.publish(envelope, PUBLISHED_AT);
    expect(retry.sent).toEqual(['alice']);
    const last = await sender.publish(envelope, PUBLISHED_AT + LEASE_MS);
    expect(last.sent).toEqual([]);
    expect(mailed()).toEqual(['alice@example.com', 'alice@example.com', 'bob@example.com']);
  });

  it('reports a mail it could not mark sent as sent, not failed, so the message is not retried', async () => {
    const { mailLog, sender, mailed } = await setup();
    mailLog.markSent = async () => {
      throw new Error('throttled');
    };
    const report = await sender.publish(envelope, PUBLISHED_AT);
    expect(report.sent).toEqual(['alice', 'bob']);
    expect(report.unrecorded).toEqual(['alice', 'bob']);
    expect(report.failed).toEqual([]);
    expect(mailed()).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('gives up the claim of a failed send, so the retry mails at once', async () => {
    const { mailer, mailLog, sender, mailed } = await setup();
    const send = mailer.send.bind(mailer);
    mailer.send = async (mail) => {
      if (mail.to === 'alice@example.com') throw new Error('MessageRejected');
      return send(mail);
    };
    const report = await sender.publish(envelope, PUBLISHED_AT);
    expect(report.failed.map((failure) => failure.userId)).toEqual(['alice']);
    expect(mailLog.records.has(`acme/alice/${report.notificationId}`)).toBe(false);

    mailer.send = send;
    const retry = await sender.publish(envelope, PUBLISHED_AT);
    expect(retry.sent).toEqual(['alice']);
    expect(mailed()).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('retries a throttled send with backoff and mails it once', async () => {
    const { clock, mailer, sender, mailed } = await setup();
    mailer.throttles = DEFAULT_EMAIL_SETTINGS.throttleRetries;
    const report = await sender.publish(envelope, PUBLISHED_AT);
    expect(report.sent).toEqual(['alice', 'bob']);
    expect(report.handedOn).toBe(0);
    expect(mailed()).toEqual(['alice@example.com', 'bob@example.com']);
    // One backoff per retry, each below the policy's ceiling.
    const ceiling = DEFAULT_EMAIL_SETTINGS.throttleBackoff.maxDelayMs;
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(DEFAULT_EMAIL_SETTINGS.throttleRetries);
    expect(clock.sleeps.every((ms) => ms >= 0)).toBe(true);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(ceiling);
  });

  it('keeps mail records for the idempotency horizon', async () => {
    const { mailLog, sender } = await setup();
    const report = await sender.publish(envelope, PUBLISHED_AT);
    const record = mailLog.records.get(`acme/alice/${report.notificationId}`);
    expect(record?.expiresAt).toBe(Math.floor(PUBLISHED_AT / 1000) + 86_400);
  });
});
