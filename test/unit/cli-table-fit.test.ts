import {
  fitCells,
  fitColumns,
  shortTimestamps,
  terminalWidth,
  truncateText,
  wrapText,
} from '../../src/cli/table-fit.js';

describe('table fitting', () => {
  test('the width: a terminal its own, else COLUMNS, else 120', () => {
    expect(terminalWidth({ isTTY: true, columns: 91 }, { COLUMNS: '70' })).toBe(91);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: '70' })).toBe(70);
    expect(terminalWidth({ isTTY: false }, {})).toBe(120);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: 'wide' })).toBe(120);
  });

  test('the widest columns give way first; kept columns last', () => {
    expect(fitColumns([10, 100], 50)).toEqual([10, 50 - 7 - 10]);
    expect(fitColumns([30, 30], 40).reduce((a, b) => a + b)).toBe(33);
    expect(fitColumns([40, 10], 40, [true, false])).toEqual([27, 6]);
    expect(fitColumns([5, 5], 100)).toEqual([5, 5]);
  });

  test('cells: timestamps shortened, then cut with an ellipsis or wrapped; every line within the width', () => {
    const ts = '2026-01-01T10:00:00.000Z';
    expect(shortTimestamps(`${ts} (expired)`)).toBe('2026-01-01 10:00:00 (expired)');
    expect(truncateText('abcdef', 4)).toBe('abc…');
    expect(wrapText('aaa bbb ccc', 7)).toBe('aaa bbb\nccc');
    const { rows } = fitCells(['id', 'why'], [['x'.repeat(50), 'because '.repeat(20)]], 40, { wrap: ['why'] });
    const lines = rows[0].flatMap((c) => c.split('\n'));
    expect(rows[0][0].endsWith('…')).toBe(true);
    expect(rows[0][1].split('\n').length).toBeGreaterThan(1);
    expect(lines.every((l) => l.length <= 33)).toBe(true);
  });
});
