/** Section 5 of the report: change events (`channels: ["live"]`) beside notifications, one run. */
import { DEFAULT_FAN_OUT_SETTINGS } from '#core/fan-out';
import { dollars, markdownTable, requestSummary, round } from './report-format';
import type { BenchReport } from './report-model';

export function changeEventsSection(report: BenchReport): string[] {
  const runs = report.fanOut.changes;
  const costs = report.cost.changes;
  if (runs === undefined || costs === undefined) return [];
  const notes = report.fanOut.single;
  const { single, burst } = runs;
  const out: string[] = [];
  out.push('## 5. Change events beside notifications');
  out.push('');
  out.push(
    `Measured in the same run, through the same fan-out handler, DynamoDB Local and \`@connections\` stand-in as section 1's one-recipient notifications: ${single.notifications} one-recipient change events (\`"channels": ["live"]\`, no \`collapseKey\`) in SQS batches of ${single.batchSize}, and a burst of ${burst.events.toLocaleString('en-US')} change events with one \`collapseKey\` to one user with one connection, its ${burst.invocations} batches handled side by side as concurrent Lambdas would, through the default ${DEFAULT_FAN_OUT_SETTINGS.coalescing.windowMs} ms collapse window. A change event is pushed, never stored: no inbox write, no unread index entry, no event ledger entry; what it writes is its recipient's last-change-per-kind record (one UpdateItem), and with a \`collapseKey\` its collapse slot.`,
  );
  out.push('');
  const perEvent = (value: number, count: number) => round(value / count, 2);
  out.push(
    markdownTable(
      [
        '',
        'Notifications, one recipient',
        'Change events, one recipient',
        'Change events, burst with one collapseKey',
      ],
      [
        ['Published', notes.notifications, single.notifications, burst.events],
        [
          'Pushes (frames to the connection)',
          notes.notifications,
          single.notifications,
          `${burst.posts} (${round((burst.posts / burst.events) * 100, 1)}% of events)`,
        ],
        [
          'Handled per second',
          round(notes.notifications / notes.seconds),
          round(single.notifications / single.seconds),
          round(burst.events / burst.seconds),
        ],
        [
          'Deliveries per second',
          round(notes.notifications / notes.seconds),
          round(single.notifications / single.seconds),
          `${burst.posts} push(es) in ${round(burst.seconds, 2)} s`,
        ],
        [
          'DynamoDB requests per event',
          requestSummary(notes.dynamo, notes.notifications),
          requestSummary(single.dynamo, single.notifications),
          requestSummary(burst.dynamo, burst.events),
        ],
        [
          'RRU / WRU per event',
          `${perEvent(notes.dynamo.readUnits, notes.notifications)} / ${perEvent(notes.dynamo.writeUnits, notes.notifications)}`,
          `${perEvent(single.dynamo.readUnits, single.notifications)} / ${perEvent(single.dynamo.writeUnits, single.notifications)}`,
          `${perEvent(burst.dynamo.readUnits, burst.events)} / ${perEvent(burst.dynamo.writeUnits, burst.events)}`,
        ],
        ['Inbox writes per event', 1, 0, 0],
        [
          'Cost per million events',
          dollars(report.cost.inApp.perMillion),
          dollars(costs.single.perMillion),
          dollars(costs.burst.perMillion),
        ],
      ],
    ),
  );
  out.push('');
  out.push(
    `Per million, a one-recipient change event costs ${dollars(costs.single.perMillion)} against ${dollars(report.cost.inApp.perMillion)} for a notification: the same publish, push, SQS and Lambda share, minus the inbox row, its unread index entry and the ledger entry, plus the small last-change record. In a coalesced burst the push and the record are shared by the events of a window, and what remains per event is the publish (${dollars(0.5)} per million on its own), its SQS and Lambda share, and the collapse slot's write per batch. Costs use section 4's prices and assumptions; Lambda time per one-recipient change event is measured as for notifications, and in the burst every invocation is billed for the whole burst (they ran side by side, and claimants sleep through their window): an upper bound.`,
  );
  out.push('');
  return out;
}
