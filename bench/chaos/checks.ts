/**
 * The verdicts of a chaos run, from what it observed once the queues were quiet: one row
 * per promise Herald makes, with its figures and PASS or FAIL.
 */
import type { DeviceTally } from './devices';
import type { DeadLetter, InboxView, Mail } from './observe';
import type { ChaosPlan } from './scenario';

export interface CheckRow {
  check: string;
  figures: string;
  pass: boolean;
  /** A few examples of what failed, for the report. */
  details?: string[];
}

export interface Observed {
  /** By user index. */
  inboxes: InboxView[];
  /** The notification ids each user (by index) marked read during the run. */
  markedRead: Map<number, Set<string>>;
  devices: DeviceTally[];
  mails: Mail[];
  deadLetters: DeadLetter[];
}

const plural = (count: number, one: string, many = `${one}s`) =>
  `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;

export function runChecks(plan: ChaosPlan, observed: Observed): CheckRow[] {
  return [
    inboxCheck(plan, observed),
    badgeCheck(plan, observed),
    connectionCheck(observed),
    emailCheck(plan, observed),
    deadLetterCheck(plan, observed),
  ];
}

function inboxCheck(plan: ChaosPlan, { inboxes }: Observed): CheckRow {
  const expected = plan.users.map(() => new Set<string>());
  for (const envelope of plan.envelopes) expected[envelope.user]?.add(envelope.id);
  let found = 0;
  let missing = 0;
  let twice = 0;
  let unexpected = 0;
  plan.users.forEach((_, user) => {
    const want = expected[user] ?? new Set<string>();
    const counts = new Map<string, number>();
    for (const item of inboxes[user]?.items ?? []) {
      counts.set(item.eventId, (counts.get(item.eventId) ?? 0) + 1);
    }
    for (const [eventId, count] of counts) {
      if (!want.has(eventId)) unexpected += count;
      else if (count > 1) twice += count - 1;
    }
    for (const eventId of want) {
      if (counts.has(eventId)) found++;
      else missing++;
    }
  });
  const total = plan.envelopes.length;
  return {
    check: 'every notification in every inbox exactly once',
    figures:
      `${found.toLocaleString('en-US')} of ${plural(total, 'notification')} ` +
      `(${plan.duplicates.length} published twice); ${missing} missing, ` +
      `${twice} stored twice, ${unexpected} unexpected`,
    pass: found === total && missing === 0 && twice === 0 && unexpected === 0,
  };
}

function badgeCheck(plan: ChaosPlan, { inboxes, markedRead }: Observed): CheckRow {
  let exact = 0;
  let drift = 0;
  let marked = 0;
  let wrongFlags = 0;
  plan.users.forEach((_, user) => {
    const inbox = inboxes[user];
    const read = markedRead.get(user) ?? new Set<string>();
    marked += read.size;
    // Read are exactly the rows marked read, the rest unread.
    wrongFlags += inbox?.items.filter((item) => item.read !== read.has(item.id)).length ?? 0;
    const unreadRows = inbox?.items.filter((item) => !item.read).length ?? 0;
    const off = Math.abs((inbox?.unread ?? -1) - unreadRows);
    if (inbox !== undefined && off === 0) exact++;
    drift += off;
  });
  return {
    check: 'every badge exact (unread count = unread rows)',
    figures:
      `${exact} of ${plural(plan.users.length, 'user')} exact, total drift ${drift}; ` +
      `${marked} marked read over sockets, ${wrongFlags} rows with the wrong read flag`,
    pass: exact === plan.users.length && wrongFlags === 0,
  };
}

function connectionCheck({ inboxes, devices }: Observed): CheckRow {
  let expected = 0;
  let received = 0;
  let short = 0;
  /** Missed deliveries: on devices never offline; on resumed ones, behind or past the cursor. */
  const missed = { live: 0, behindCursor: 0, afterCursor: 0 };
  let duplicates = 0;
  let resumed = 0;
  let replayed = 0;
  const failures: string[] = [];
  const details: string[] = [];
  for (const device of devices) {
    const ids = (inboxes[device.user]?.items ?? []).map((item) => item.id);
    const missingIds = ids.filter((id) => !device.received.has(id));
    const missing = missingIds.length;
    for (const id of missingIds) {
      const cursor = device.resumedFrom;
      const eventId = inboxes[device.user]?.items.find((item) => item.id === id)?.eventId;
      if (details.length < 5) {
        details.push(
          `user ${device.user} missed ${id} (${eventId}) on a ` +
            (device.resumed ? `device resumed from ${cursor}` : 'live device'),
        );
      }
      if (!device.resumed || cursor === undefined) missed.live++;
      else if (id < cursor) missed.behindCursor++;
      else missed.afterCursor++;
    }
    expected += ids.length;
    received += ids.length - missing;
    if (missing > 0) short++;
    duplicates += device.duplicates;
    replayed += device.replayed;
    if (device.resumed) resumed++;
    failures.push(...device.resumeFailures);
  }
  const refused =
    failures.length > 0 ? `; resume failures: ${failures.slice(0, 3).join(', ')}` : '';
  return {
    check: 'every live or resumed connection received every notification',
    figures:
      `${received.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} deliveries ` +
      `on ${plural(devices.length, 'device')} (${resumed} resumed, ${replayed} replayed); ` +
      `${short} devices short (missed: ${missed.live} on live devices, ${missed.behindCursor} ` +
      `older than a resumed device's cursor, ${missed.afterCursor} newer); ${plural(duplicates, 'duplicate push', 'duplicate pushes')} ` +
      `dropped by id${refused}`,
    pass: received === expected && short === 0,
    details,
  };
}

function emailCheck(plan: ChaosPlan, { mails }: Observed): CheckRow {
  const want = new Map<string, number>();
  for (const envelope of plan.envelopes) {
    const address = plan.users[envelope.user]?.email;
    if (envelope.email && address) want.set(`${address} ${envelope.body.title}`, 0);
  }
  let unexpected = 0;
  for (const mail of mails) {
    for (const to of mail.to) {
      const key = `${to} ${mail.subject}`;
      const count = want.get(key);
      if (count === undefined) unexpected++;
      else want.set(key, count + 1);
    }
  }
  const counts = [...want.values()];
  const once = counts.filter((count) => count === 1).length;
  const missing = counts.filter((count) => count === 0).length;
  const twice = counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  return {
    check: 'every email sent once',
    figures: `${once} of ${plural(want.size, 'email')} sent once; ${missing} missing, ${twice} extra, ${unexpected} unexpected`,
    pass: once === want.size && unexpected === 0,
  };
}

function deadLetterCheck(plan: ChaosPlan, { deadLetters }: Observed): CheckRow {
  const markerOf = (letter: DeadLetter) =>
    plan.invalid.find((invalid) => letter.body.includes(invalid.marker));
  const strays = deadLetters.filter((letter) => markerOf(letter) === undefined);
  const reasonless = deadLetters.filter((letter) => markerOf(letter) && !letter.reason);
  const present = plan.invalid.filter((invalid) =>
    deadLetters.some((letter) => letter.reason && letter.body.includes(invalid.marker)),
  );
  const missing = plan.invalid
    .filter((invalid) => !present.includes(invalid))
    .map((invalid) => invalid.kind);
  return {
    check: 'no DLQ message but the invalid envelopes, each with herald.reason',
    figures:
      `${present.length} of ${plan.invalid.length} invalid envelopes dead-lettered with a reason` +
      `${missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''}; ` +
      `${strays.length} other dead letters, ${reasonless.length} without reason`,
    pass: missing.length === 0 && strays.length === 0 && reasonless.length === 0,
  };
}
