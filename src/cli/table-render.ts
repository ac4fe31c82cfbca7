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

/**
 * Lines of the table as small parts, joined once per piece: a line built by `+=` is a tree of
 * strings that the join must walk again. The parts array is reused from piece to piece.
 */
class Lines {
  parts: string[] = [];
  count = 0;

  start(): void {
    if (this.count++ > 0) this.parts.push('\n');
  }

  add(line: string): void {
    this.start();
    this.parts.push(line);
  }

  /** The lines so far, joined by newlines (none at the end); starts a new piece. */
  take(): string {
    const text = this.parts.join('');
    this.parts.length = 0;
    this.count = 0;
    return text;
  }
}

function drawRow(out: Lines, cells: readonly string[], widths: readonly number[], pad: (n: number) => string): void {
  // Most cells are one line: only a cell with a newline is split (a 10,000-task table draws 60,000 cells).
  let lines: (string | string[])[] | null = null;
  let height = 1;
  for (let i = 0; i < cells.length; i++) {
    if (!cells[i].includes('\n')) continue;
    const split = cells[i].split('\n');
    (lines ??= cells.slice())[i] = split;
    if (split.length > height) height = split.length;
  }
  for (let k = 0; k < height; k++) {
    out.start();
    out.parts.push('│');
    for (let i = 0; i < widths.length; i++) {
      const cell = lines ? lines[i] : cells[i];
      const text = (typeof cell === 'string' ? (k === 0 ? cell : '') : cell?.[k]) ?? '';
      out.parts.push(' ', text, pad(widths[i] - displayWidth(text)), ' │');
    }
  }
}

/**
 * Lines per piece of tableChunks: about 50 KB of text at 120 columns (two bytes a character, for the
 * box drawing). Pieces stay out of V8's large-object space, whose every allocation touches fresh
 * pages: with 500 lines, drawing a 10,000-task table took about 1,200 more page faults.
 */
const LINES_PER_CHUNK = 200;

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
  const out = new Lines();
  out.add(rule(w, '┌', '┬', '┐'));
  drawRow(out, head, w, pad);
  out.add(rule(w, '├', '┼', '┤'));
  for (const row of rows) {
    drawRow(out, row, w, pad);
    if (out.count >= linesPerChunk) yield out.take();
  }
  out.add(rule(w, '└', '┴', '┘'));
  yield out.take();
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
