import { describe, expect, it } from 'vitest';
import { type Observed, runChecks } from '#bench/chaos/checks';
import type { DeviceTally } from '#bench/chaos/devices';
import { DEFAULT_OPTIONS } from '#bench/chaos/options';
import { planChaos } from '#bench/chaos/scenario';

const plan = planChaos({
  ...DEFAULT_OPTIONS,
  notifications: 12,
  users: 3,
  minDevices: 2,
  maxDevices: 2,
  emailUserShare: 1,
  emailShare: 0.5,
  duplicates: 2,
  invalid: 2,
});

/** What a run that kept every promise would observe. */
function perfect(): Observed {
  // User 0 marked its first notification read.
  const inboxes = plan.users.map((_, user) => {
    const items = plan.envelopes
      .filter((envelope) => envelope.user === user)
      .map((envelope, i) => ({
        id: `n-${envelope.id}`,
        eventId: envelope.id,
        read: user === 0 && i === 0,
      }));
    return { items, unread: items.filter((item) => !item.read).length };
  });
  const markedRead = new Map([[0, new Set([inboxes[0]?.items[0]?.id as string])]]);
  const devices: DeviceTally[] = plan.devices.map((device) => ({
    user: device.user,
    resumed: false,
    received: new Set(inboxes[device.user]?.items.map((item) => item.id)),
    duplicates: 0,
    replayed: 0,
    resumeFailures: [],
  }));
  const mails = plan.envelopes
    .filter((envelope) => envelope.email)
    .map((envelope) => ({
      to: [plan.users[envelope.user]?.email as string],
      subject: String(envelope.body.title),
    }));
  const deadLetters = plan.invalid.map((invalid) => ({
    queue: 'fan-out',
    body: invalid.text,
    reason: 'invalid envelope',
  }));
  return { inboxes, markedRead, devices, mails, deadLetters };
}

const failing = (observed: Observed) =>
  runChecks(plan, observed)
    .filter((row) => !row.pass)
    .map((row) => row.check);

describe('chaos checks', () => {
  it('pass when every promise was kept', () => {
    expect(plan.envelopes.some((envelope) => envelope.email)).toBe(true);
    expect(failing(perfect())).toEqual([]);
  });

  it('fail the inbox on a notification stored twice or missing', () => {
    const twice = perfect();
    const inbox = twice.inboxes[0];
    inbox?.items.push({ ...(inbox.items[0] as (typeof inbox.items)[0]), id: 'n-other' });
    expect(failing(twice)).toContain('every notification in every inbox exactly once');

    const missing = perfect();
    missing.inboxes[1]?.items.pop();
    expect(failing(missing)).toContain('every notification in every inbox exactly once');
  });

  it('fails the badge when the count and the unread rows disagree', () => {
    const drifted = perfect();
    (drifted.inboxes[2] as { unread: number }).unread += 1;
    expect(failing(drifted)).toEqual(['every badge exact (unread count = unread rows)']);
  });

  it('fails the badge when a row marked read is unread, or one never marked is read', () => {
    const lost = perfect();
    const first = lost.inboxes[0] as Observed['inboxes'][0];
    (first.items[0] as { read: boolean }).read = false;
    first.unread += 1;
    expect(failing(lost)).toEqual(['every badge exact (unread count = unread rows)']);

    const extra = perfect();
    const second = extra.inboxes[1] as Observed['inboxes'][0];
    (second.items[0] as { read: boolean }).read = true;
    second.unread -= 1;
    expect(failing(extra)).toEqual(['every badge exact (unread count = unread rows)']);
  });

  it('fails the devices when one missed a notification, but only counts duplicate pushes', () => {
    const duplicated = perfect();
    (duplicated.devices[0] as DeviceTally).duplicates = 3;
    const [, , devices] = runChecks(plan, duplicated);
    expect(devices?.pass).toBe(true);
    expect(devices?.figures).toContain('3 duplicate pushes');

    const short = perfect();
    const device = short.devices[1] as DeviceTally;
    device.received.delete([...device.received][0] as string);
    expect(failing(short)).toEqual([
      'every live or resumed connection received every notification',
    ]);
  });

  it('fails email on a mail sent twice, missing or unexpected', () => {
    const twice = perfect();
    twice.mails.push(twice.mails[0] as Observed['mails'][0]);
    expect(failing(twice)).toEqual(['every email sent once']);

    const missing = perfect();
    missing.mails.pop();
    expect(failing(missing)).toEqual(['every email sent once']);

    const stray = perfect();
    stray.mails.push({ to: ['nobody@example.com'], subject: 'stray' });
    expect(failing(stray)).toEqual(['every email sent once']);
  });

  it('fails the DLQ on a stray dead letter, a missing invalid envelope or a missing reason', () => {
    const stray = perfect();
    stray.deadLetters.push({ queue: 'email', body: '{"id":"valid"}', reason: 'timeout' });
    const dlq = 'no DLQ message but the invalid envelopes, each with herald.reason';
    expect(failing(stray)).toEqual([dlq]);

    const missing = perfect();
    missing.deadLetters.pop();
    expect(failing(missing)).toEqual([dlq]);

    const reasonless = perfect();
    delete (reasonless.deadLetters[0] as { reason?: string }).reason;
    expect(failing(reasonless)).toEqual([dlq]);
  });
});
