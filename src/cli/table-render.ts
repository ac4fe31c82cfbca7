/**
 * Draws the CLI's bordered tables (the compact style cli-table3 drew for us) in one pass over the
 * cells. cli-table3 measures and pads every cell through string-width and regexes, which took
 * seconds for a 10,000-task `dags test` table; this is linear in the text and draws the same
 * characters (test/unit/table-render.test.ts compares the two).
 */
import { displayWidth } from './table-fit.js';

const H = '─';

function rule(widths: readonly number[], left: string, mid: string, right: string): string {
  let line = left;
  for (let i = 0; i < widths.length; i++) line += (i > 0 ? mid : '') + H.repeat(widths[i] + 2);
  return line + right;
}

/** Width of the widest line of a cell (a wrapped cell has several). */
function cellWidth(text: string): number {
  if (!text.includes('\n')) return displayWidth(text);
  let max = 0;
  for (const line of text.split('\n')) max = Math.max(max, displayWidth(line));
  return max;
}

/** The content width of each column: its widest cell, header included. */
export function naturalWidths(head: readonly string[], rows: readonly string[][]): number[] {
  const widths = head.map(cellWidth);
  for (const row of rows)
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], cellWidth(row[i] ?? ''));
  return widths;
}

function drawRow(out: string[], cells: readonly string[], widths: readonly number[]): void {
  const lines = cells.map((c) => (c.includes('\n') ? c.split('\n') : [c]));
  let height = 1;
  for (const l of lines) height = Math.max(height, l.length);
  for (let k = 0; k < height; k++) {
    let line = '│';
    for (let i = 0; i < widths.length; i++) {
      const text = lines[i]?.[k] ?? '';
      line += ' ' + text + ' '.repeat(Math.max(0, widths[i] - displayWidth(text))) + ' │';
    }
    out.push(line);
  }
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
  const w = widths ?? naturalWidths(head, rows);
  const out: string[] = [rule(w, '┌', '┬', '┐')];
  drawRow(out, head, w);
  out.push(rule(w, '├', '┼', '┤'));
  for (const row of rows) drawRow(out, row, w);
  out.push(rule(w, '└', '┴', '┘'));
  return out.join('\n');
}
