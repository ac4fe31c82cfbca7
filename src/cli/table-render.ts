/**
 * Draws the CLI's bordered tables (the compact style cli-table3 drew for us) in one pass over the
 * cells. cli-table3 measures and pads every cell through string-width and regexes, which took
 * seconds for a 10,000-task `dags test` table; this is linear in the text and draws the same
 * characters (test/unit/table-render.test.ts compares the two).
 */
import { displayWidth, naturalWidths } from './table-fit.js';

const H = '─';

function rule(widths: readonly number[], left: string, mid: string, right: string): string {
  let line = left;
  for (let i = 0; i < widths.length; i++) line += (i > 0 ? mid : '') + H.repeat(widths[i] + 2);
  return line + right;
}

/** Padding by length, made once each: a 10,000-row table pads 60,000 cells. */
function padder(): (n: number) => string {
  const pads: string[] = [];
  return (n) => (n <= 0 ? '' : (pads[n] ??= ' '.repeat(n)));
}

function drawRow(out: string[], cells: readonly string[], widths: readonly number[], pad: (n: number) => string): void {
  let height = 1;
  for (let i = 0; i < cells.length; i++)
    if (cells[i].includes('\n')) height = Math.max(height, cells[i].split('\n').length);
  // Most rows are one line: their cells are drawn as they are, none split.
  const lines = height === 1 ? null : cells.map((c) => c.split('\n'));
  for (let k = 0; k < height; k++) {
    let line = '│';
    for (let i = 0; i < widths.length; i++) {
      const text = (lines ? lines[i]?.[k] : cells[i]) ?? '';
      line += ' ' + text + pad(widths[i] - displayWidth(text)) + ' │';
    }
    out.push(line);
  }
}

/** Lines per piece of tableChunks (~100 KB of text): small strings, out of V8's large-object space. */
const LINES_PER_CHUNK = 500;

/**
 * The table as text in pieces, each some whole lines (joined by newlines, none at the end), drawn as
 * they are asked for: printTable writes each at once, so a 10,000-row table is never one 2 MB string
 * and its 3 MB of UTF-8, at the peak of a `dags test`'s memory. `widths` as for renderTable.
 */
export function* tableChunks(
  head: readonly string[],
  rows: readonly string[][],
  widths: readonly number[] | null,
  linesPerChunk = LINES_PER_CHUNK,
): Generator<string> {
  const w = widths ?? naturalWidths(head, rows);
  const pad = padder();
  let out: string[] = [rule(w, '┌', '┬', '┐')];
  drawRow(out, head, w, pad);
  out.push(rule(w, '├', '┼', '┤'));
  for (const row of rows) {
    drawRow(out, row, w, pad);
    if (out.length >= linesPerChunk) {
      yield out.join('\n');
      out = [];
    }
  }
  out.push(rule(w, '└', '┴', '┘'));
  yield out.join('\n');
}

/**
 * The table as text (no trailing newline). `widths`: each column's content width, cells already
 * fitted to it (table-fit.ts); null: as wide as the widest cell.
 */
export function renderTable(
  head: readonly string[],
  rows: readonly string[][],
  widths: readonly number[] | null,
): string {
  return [...tableChunks(head, rows, widths, Infinity)].join('\n');
}
