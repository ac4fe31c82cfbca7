import fc from 'fast-check';
import Table from 'cli-table3';
import { renderTable, tableChunks } from '../../src/cli/table-render.js';
import { fitCells } from '../../src/cli/table-fit.js';

/** What printTable drew with cli-table3 before it drew tables itself: the reference. */
function cliTable3(head: string[], rows: string[][], widths: number[] | null): string {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: true },
    ...(widths ? { colWidths: widths.map((w) => w + 2) } : {}),
  });
  for (const r of rows) table.push(r);
  return table.toString();
}

const GREEN = (s: string) => `\u001b[32m${s}\u001b[39m`;
const cell = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', ' ', '-', '_', ':', '.'), maxLength: 30 }),
  fc.constantFrom('success', 'miss (stored)', GREEN('hit'), 'line one\nline two', '', '2026-01-01T00:00:00+00:00'),
);

describe('renderTable', () => {
  it('draws what cli-table3 drew, fitted or not, with colour codes and wrapped cells', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((cols) =>
          fc.tuple(
            fc.array(fc.string({ unit: fc.constantFrom('h', 'e', 'a', 'd', '_'), minLength: 1, maxLength: 12 }), {
              minLength: cols,
              maxLength: cols,
            }),
            fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 6 }),
            fc.integer({ min: 20, max: 140 }),
            fc.boolean(),
          ),
        ),
        ([head, rows, width, full]) => {
          const fitted = full ? { head, rows, widths: null } : fitCells(head, rows, width, { wrap: [head[0]] });
          expect(renderTable(fitted.head, fitted.rows, fitted.widths)).toBe(
            cliTable3(fitted.head, fitted.rows, fitted.widths),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('draws a 100,000-row table (no argument-list overflow, linear work)', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [`t${i}`, 'success', GREEN('hit')]);
    const fitted = fitCells(['task_id', 'state', 'cache'], rows, 120);
    const text = renderTable(fitted.head, fitted.rows, fitted.widths);
    expect(text.split('\n')).toHaveLength(100_000 + 4);
    expect(text.split('\n')[4]).toBe('│ t1      │ success │ \u001b[32mhit\u001b[39m   │');
  });

  it('writes a long table in pieces of whole lines that join to the same text', () => {
    const rows = Array.from({ length: 1234 }, (_, i) => [`t${i}`, i % 7 ? 'success' : 'a\nwrapped']);
    const fitted = fitCells(['task_id', 'state'], rows, 120);
    const chunks = [...tableChunks(fitted.head, fitted.rows, fitted.widths, 100)];
    expect(chunks.join('\n')).toBe(renderTable(fitted.head, fitted.rows, fitted.widths));
    expect(chunks.length).toBeGreaterThan(10);
    expect(Math.max(...chunks.map((c) => c.split('\n').length))).toBeLessThanOrEqual(101);
  });
});
