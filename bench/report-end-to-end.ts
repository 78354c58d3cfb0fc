/** Section 2 of the report: end to end on the local stack, next to a bare `ws` server. */

import { markdownTable, requestSummary, round } from './report-format';
import type { BenchReport } from './report-model';

export function endToEndSection(report: BenchReport): string[] {
  const out: string[] = [];
  const { machine } = report;
  const e2e = report.endToEnd;
  out.push('## 2. End to end on the local stack');
  out.push('');
  if (e2e) {
    out.push(
      `\`startLocalStack\` (all ports 0), ${e2e.clients.toLocaleString('en-US')} \`ws\` clients over ${e2e.users} users (dev tokens from \`signDevToken\`), connected in ${round(e2e.connectSeconds, 1)} s. Each run publishes one-user notifications with \`@aws-sdk/client-sns\` at a steady rate for ${e2e.seconds} s, the publish time in \`data.sentAt\`; every client records receive − publish. Clients and publisher run in a process of their own; the stack, DynamoDB Local and they share the ${machine.cpus} cores. The floor: a bare \`ws\` server pushing the same frames to the same clients at the same rate.`,
    );
    out.push('');
    out.push(
      markdownTable(
        [
          'Rate (/s)',
          'Notifications',
          'Published (/s)',
          'Delivered',
          'Duplicates',
          'Herald p50 / p95 / p99 / max (ms)',
          'Bare ws p50 / p95 / p99 / max (ms)',
          'p99 ratio',
          'DynamoDB per notification',
        ],
        e2e.runs.map((run) => [
          run.rate,
          run.notifications,
          round(run.publishRate),
          `${run.herald.delivered}/${run.herald.expected}`,
          run.herald.duplicates,
          `${run.herald.latency.p50} / ${run.herald.latency.p95} / ${run.herald.latency.p99} / ${run.herald.latency.max}`,
          `${run.floor.latency.p50} / ${run.floor.latency.p95} / ${run.floor.latency.p99} / ${run.floor.latency.max}`,
          `${round(run.herald.latency.p99 / Math.max(1, run.floor.latency.p99))}×`,
          requestSummary(run.dynamo, run.notifications),
        ]),
      ),
    );
    out.push('');
    out.push(
      `Email: ${e2e.email.sent}/${e2e.email.requested} email-only notifications reached the SES emulator; per email ${requestSummary(e2e.email.dynamo, Math.max(1, e2e.email.sent))} (${round(e2e.email.dynamo.readUnits / Math.max(1, e2e.email.sent), 2)} RRU, ${round(e2e.email.dynamo.writeUnits / Math.max(1, e2e.email.sent), 2)} WRU), the fan-out's share included.`,
    );
  } else {
    out.push('Not run.');
  }
  out.push('');
  return out;
}
