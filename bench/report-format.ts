/** Markdown tables and the number formats the report and the findings write with. */
import type { DynamoCounts } from './dynamo-counter';

export type Cell = string | number;

/** A Markdown table; numbers are right-aligned. */
export function markdownTable(headers: string[], rows: Cell[][]): string {
  const cellText = (cell: Cell) => String(cell).replaceAll('|', '\\|').replaceAll('\n', ' ');
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'),
  );
  const lines = [
    `| ${headers.map(cellText).join(' | ')} |`,
    `|${numeric.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${headers.map((_, i) => cellText(row[i] ?? '')).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export const round = (value: number, digits = 0): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
export const kb = (bytes: number) => round(bytes / 1024, 1);
export const percent = (value: number) => `${round(value * 100)}%`;
export const dollars = (value: number) => `$${value.toFixed(value < 0.1 ? 4 : 2)}`;

/** `PutItem 2, Query 1` */
export function requestSummary(counts: DynamoCounts, divisor = 1): string {
  const entries = Object.entries(counts.requests).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '—';
  return entries.map(([op, n]) => `${op} ${round(n / divisor, 2)}`).join(', ');
}
