import { describe, expect, it } from 'vitest';
import { markdownTable, requestSummary } from '#bench/report-format';

describe('markdownTable', () => {
  it('aligns numeric columns right and escapes pipes', () => {
    expect(
      markdownTable(
        ['Name', 'Count'],
        [
          ['a|b', 3],
          ['c', 10],
        ],
      ),
    ).toBe(['| Name | Count |', '|---|---:|', '| a\\|b | 3 |', '| c | 10 |'].join('\n'));
  });

  it('renders a header without rows', () => {
    expect(markdownTable(['A'], [])).toBe('| A |\n|---|');
  });
});

describe('requestSummary', () => {
  it('lists requests per notification by operation, sorted', () => {
    const counts = { requests: { Query: 4, PutItem: 2 }, readUnits: 2, writeUnits: 2 };
    expect(requestSummary(counts, 2)).toBe('PutItem 1, Query 2');
    expect(requestSummary({ requests: {}, readUnits: 0, writeUnits: 0 })).toBe('—');
  });
});
