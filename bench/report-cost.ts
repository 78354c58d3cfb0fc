/** Section 4 of the report: the prices, and the cost of a million notifications and emails. */
import { type Cost, PRICES, PRICES_CHECKED, type PriceItem } from './cost-model';
import { type Cell, dollars, markdownTable, percent, round } from './report-format';
import type { BenchReport } from './report-model';

function costLines(cost: Cost): Cell[][] {
  return cost.lines.map((line) => [
    line.item,
    round(line.quantity, 4),
    PRICES[line.item as PriceItem].per,
    dollars(line.perMillion),
  ]);
}

export function costSection(report: BenchReport): string[] {
  const out: string[] = [];
  const { cost } = report;
  out.push('## 4. Cost model');
  out.push('');
  out.push(
    `us-east-1 prices, checked ${PRICES_CHECKED} (the one table is \`PRICES\` in \`bench/cost-model.ts\`):`,
  );
  out.push('');
  out.push(
    markdownTable(
      ['Item', 'USD per million units', 'Unit', 'Source'],
      Object.entries(PRICES).map(([item, price]) => [
        item,
        round(price.usd * 1e6, 4),
        price.per,
        price.source,
      ]),
    ),
  );
  out.push('');
  out.push(
    'One million in-app notifications, each one publish to one recipient with one connection, kept in the inbox:',
  );
  out.push('');
  out.push(
    markdownTable(['Item', 'Per notification', 'Unit', 'Per million'], costLines(cost.inApp)),
  );
  out.push('');
  out.push(
    `Total **${dollars(cost.inApp.perMillion)}** per million against the floor of ${dollars(cost.floor.perMillion)} (one publish, one message, two writes): ${percent(cost.inApp.perMillion / cost.floor.perMillion - 1)} above it.` +
      (cost.inAppEndToEnd
        ? ` From the end-to-end run's counts instead: ${dollars(cost.inAppEndToEnd.perMillion)}.`
        : '') +
      ` With one record per invocation (a quiet queue, no batching): ${dollars(cost.inAppUnbatched.perMillion)}.`,
  );
  out.push('');
  if (cost.email) {
    out.push('One million emails (email-only notifications):');
    out.push('');
    out.push(markdownTable(['Item', 'Per email', 'Unit', 'Per million'], costLines(cost.email)));
    out.push('');
    out.push(
      `Total **${dollars(cost.email.perMillion)}** per million emails, SES itself ${dollars(100)} of it.`,
    );
    out.push('');
  }
  out.push('Assumptions:');
  out.push('');
  for (const assumption of cost.assumptions) out.push(`- ${assumption}`);
  out.push('');
  return out;
}
