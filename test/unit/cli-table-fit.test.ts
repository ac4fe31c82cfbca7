import fc from 'fast-check';
import { stripVTControlCharacters } from 'node:util';
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

  test('cells fitted as cutting every cell did; a table that fits is returned without copying a row', () => {
    // The per-cell fitting fitCells did before it skipped the columns that need no cut.
    const reference = (head: string[], rows: string[][], total: number, wrap: string[]) => {
      const natural = (rs: string[][]) =>
        head.map((h, i) => Math.max(...[h, ...rs.map((r) => r[i])].flatMap((c) => c.split('\n').map(width))));
      const fits = (ws: number[]) => ws.reduce((s, w) => s + w, 0) + ws.length * 3 + 1 <= total;
      const cells = fits(natural(rows)) ? rows : rows.map((r) => r.map(shortTimestamps));
      const widths = fitColumns(natural(cells), total, []);
      const cell = (text: string, i: number) =>
        wrap.includes(head[i])
          ? wrapText(text, widths[i])
          : text
              .split('\n')
              .map((l) => truncateText(l, widths[i]))
              .join('\n');
      return { head: head.map((h, i) => truncateText(h, widths[i])), rows: cells.map((r) => r.map(cell)), widths };
    };
    const GREEN = (s: string) => `\u001b[32m${s}\u001b[39m`;
    const width = (s: string) => stripVTControlCharacters(s).length;
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '-'), maxLength: 40 }),
      fc.constantFrom(GREEN('hit'), 'miss (stored)', '2026-01-01T10:00:00.000Z', 'a\nbcdefgh ij'),
    );
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((cols) =>
            fc.tuple(
              fc.array(fc.constantFrom('id', 'why', 'state', 'x'), { minLength: cols, maxLength: cols }),
              fc.array(fc.array(text, { minLength: cols, maxLength: cols }), { maxLength: 5 }),
              fc.integer({ min: 20, max: 160 }),
            ),
          ),
        ([head, rows, total]) => {
          expect(fitCells(head, rows, total, { wrap: ['why'] })).toEqual(reference(head, rows, total, ['why']));
        },
      ),
      { numRuns: 500 },
    );
    const rows = Array.from({ length: 1000 }, (_, i) => [`t${i}`, 'success', 'entry from run prime']);
    const fitted = fitCells(['task_id', 'state', 'why'], rows, 120, { wrap: ['why'] });
    expect(fitted.rows.every((r, i) => r === rows[i])).toBe(true);
  });
});
