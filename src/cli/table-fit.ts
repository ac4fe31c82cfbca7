/**
 * Fitting a table to the terminal: the width to fit, and the cells cut (or wrapped) so that every
 * row stays within it. Pure functions over strings, so printTable stays a few lines and this is
 * unit-tested. Widths are measured without colour codes (chalk's escapes take no columns).
 */
import { stripVTControlCharacters } from 'node:util';

/** When stdout is not a terminal and COLUMNS is not set (pipes, CI logs). */
export const DEFAULT_WIDTH = 120;
/** A narrower COLUMNS is taken as a mistake: tables would be all ellipses. */
const MIN_WIDTH = 20;
/** A column is cut narrower than this (unless its content is) only when nothing else fits. */
const MIN_COLUMN = 6;
const LAST_RESORT_COLUMN = 2;
export const ELLIPSIS = '…';

/** The terminal's own width; else `COLUMNS`; else 120. */
export function terminalWidth(
  stream: { isTTY?: boolean; columns?: number } = process.stdout,
  env = process.env,
): number {
  if (stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv >= MIN_WIDTH) return fromEnv;
  return DEFAULT_WIDTH;
}

/** Text with colour codes removed; most cells have none, and a 10,000-row table checks each one. */
const plain = (s: string): string => (s.includes('\u001b') || s.includes('\u009b') ? stripVTControlCharacters(s) : s);

export const displayWidth = (s: string): number => plain(s).length;

/** The characters a bordered table adds around `columns` cells of content: a border and a space each side. */
export const tableChrome = (columns: number): number => columns * 3 + 1;

/**
 * The content width of each column so the table fits `total` characters: the widest columns give
 * way first. Only a terminal narrower than three characters a column cannot be met.
 */
export function fitColumns(natural: number[], total: number, keep: boolean[] = []): number[] {
  const widths = [...natural];
  let excess = widths.reduce((s, w) => s + w, 0) + tableChrome(widths.length) - total;
  // Columns to keep whole give way only once the others are down to their minimum; on a very
  // narrow terminal every column goes down to a character and an ellipsis.
  excess = shrink(widths, excess, (i) => !keep[i], MIN_COLUMN);
  excess = shrink(widths, excess, () => true, MIN_COLUMN);
  shrink(widths, excess, () => true, LAST_RESORT_COLUMN);
  return widths;
}

function shrink(widths: number[], excess: number, may: (i: number) => boolean, min: number): number {
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (may(i) && widths[i] > min && (widest < 0 || widths[i] > widths[widest])) widest = i;
    if (widest < 0) break;
    const second = Math.max(min, ...widths.filter((_, i) => i !== widest && may(i)));
    const cut = Math.min(excess, Math.max(1, widths[widest] - second));
    widths[widest] -= cut;
    excess -= cut;
  }
  return excess;
}

/** One line cut to `width` display columns, ending in an ellipsis when cut (colour codes dropped then). */
export function truncateText(text: string, width: number): string {
  const bare = plain(text);
  if (bare.length <= width) return text;
  return width <= 1 ? ELLIPSIS.slice(0, width) : bare.slice(0, width - 1) + ELLIPSIS;
}

/** A cell's text wrapped into lines of at most `width`, breaking at spaces where it can. */
export function wrapText(text: string, width: number): string {
  const bare = plain(text);
  if (bare.length <= width) return text;
  const lines: string[] = [];
  let rest = bare;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const at = space > width / 3 ? space : width;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  if (rest) lines.push(rest);
  return lines.join('\n');
}

const ISO_TIMESTAMP = /(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})\.\d{3}Z/g;

/** `2026-01-01T10:00:00.000Z` -> `2026-01-01 10:00:00` (tables say their timestamps are UTC). */
export function shortTimestamps(text: string): string {
  return text.includes('Z') ? text.replace(ISO_TIMESTAMP, '$1 $2') : text;
}

export interface FitOptions {
  /** Columns (by header) whose cells wrap instead of being cut: reasons and errors. */
  wrap?: string[];
  /** Columns (by header) cut only when the others cannot give more: names and ids. */
  keep?: string[];
}

/**
 * Cells fitted to `total` characters: shorter timestamps first, then the widest columns cut with an
 * ellipsis (or wrapped, for `wrap` columns). Returns the cells and each column's content width.
 */
export function fitCells(
  head: string[],
  rows: string[][],
  total: number,
  opts: FitOptions = {},
): { head: string[]; rows: string[][]; widths: number[] } {
  const fits = (ws: number[]) => ws.reduce((s, w) => s + w, 0) + tableChrome(ws.length) <= total;
  let cells = rows;
  let natural = naturalWidths(head, cells);
  if (!fits(natural)) {
    // Rows without a timestamp (most, in a task table) are kept as they are, not copied.
    let changed = false;
    cells = rows.map((r) => {
      let out: string[] | null = null;
      for (let i = 0; i < r.length; i++) {
        const short = shortTimestamps(r[i]);
        if (short !== r[i]) (out ??= r.slice())[i] = short;
      }
      if (out) changed = true;
      return out ?? r;
    });
    if (changed) natural = naturalWidths(head, cells);
  }
  const keep = new Set(opts.keep ?? []);
  const widths = fitColumns(
    natural,
    total,
    head.map((h) => keep.has(h)),
  );
  const wrap = head.map((h) => opts.wrap?.includes(h) === true);
  // Only a column narrower than its widest cell has cells to cut, and a wrapped cell changes only
  // when too wide: in a table that fits (the usual case, 60,000 cells for 10,000 tasks) no row is
  // copied and no cell rebuilt.
  const fitCell = (text: string, i: number) =>
    wrap[i]
      ? wrapText(text, widths[i])
      : widths[i] >= natural[i]
        ? text
        : text
            .split('\n')
            .map((l) => truncateText(l, widths[i]))
            .join('\n');
  const fitRow = (r: string[]) => {
    let out: string[] | null = null;
    for (let i = 0; i < r.length; i++) {
      const text = fitCell(r[i], i);
      if (text !== r[i]) (out ??= r.slice())[i] = text;
    }
    return out ?? r;
  };
  return { head: head.map((h, i) => truncateText(h, widths[i])), rows: cells.map(fitRow), widths };
}

/**
 * Each column's content width: its widest cell (the widest line of a wrapped one), header included.
 * A loop, not Math.max(...cells): a 100,000-row table would overflow the argument list.
 */
export function naturalWidths(head: readonly string[], rows: readonly (readonly string[])[]): number[] {
  const widths = head.map(maxLineWidth);
  for (const r of rows)
    for (let i = 0; i < widths.length; i++) {
      const w = maxLineWidth(r[i] ?? '');
      if (w > widths[i]) widths[i] = w;
    }
  return widths;
}

function maxLineWidth(text: string): number {
  if (!text.includes('\n')) return displayWidth(text);
  let max = 0;
  for (const line of text.split('\n')) max = Math.max(max, displayWidth(line));
  return max;
}
