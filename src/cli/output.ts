import type { ChalkInstance } from 'chalk';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import { fitCells, terminalWidth, truncateText, type FitOptions } from './table-fit.js';
import { tableChunks } from './table-render.js';

export type OutputFormat = 'table' | 'json';

/**
 * Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). Decided when
 * this module loads: every coloured line goes through it. chalk is loaded only when colour may be
 * on, so piped output (scripts, `-o json`, the bench) and commands that print nothing coloured
 * (`config get-value`) never load it; on a terminal chalk's own detection decides the level.
 * Required (Node >= 20.19 requires an ES module), not awaited: the CLI bundle is CommonJS, which
 * has no top-level await (scripts/build-cli.js).
 */
const chalk: ChalkInstance | null =
  process.env.NO_COLOR === undefined && process.stdout.isTTY
    ? (createRequire(import.meta.url)('chalk') as typeof import('chalk')).default
    : null;

const plain = (s: string) => s;

export function parseFormat(value: string): OutputFormat {
  if (value !== 'table' && value !== 'json') throw new UsageError(`--output must be 'table' or 'json', got '${value}'`);
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export interface TableOptions extends FitOptions {
  /** What the rows are, plural ("DAG runs"): an empty listing prints "No DAG runs found." */
  noun?: string;
  /** Print every cell whole, however wide (`cache show --full`). */
  full?: boolean;
  /** The width to fit (default: the terminal's, see terminalWidth). */
  width?: number;
}

/** The one line an empty listing prints, the same wording everywhere. */
export function emptyListing(noun: string): string {
  return `No ${noun} found.`;
}

/**
 * Every table of the CLI: a compact bordered table fitted to the terminal width (timestamps
 * shortened, then the widest columns cut with an ellipsis or wrapped), or one line when empty.
 * Headers are bold only when colour is on, so scripts can read it too. `-o json` never comes here.
 */
export function printTable(
  head: string[],
  rows: (string | number | null | undefined)[][],
  opts: TableOptions = {},
): void {
  if (rows.length === 0) {
    process.stdout.write(emptyListing(opts.noun ?? 'rows') + '\n');
    return;
  }
  const text = rows.map((r) => (isText(r, head.length) ? r : head.map((_, i) => (r[i] == null ? '' : String(r[i])))));
  const fitted = opts.full
    ? { head, rows: text, widths: null }
    : fitCells(head, text, opts.width ?? terminalWidth(), opts);
  const bold = fitted.head.map(chalk ? (h) => chalk.bold(h) : plain);
  for (const chunk of tableChunks(bold, fitted.rows, fitted.widths)) process.stdout.write(chunk + '\n');
}

/** A row that is already all text, one cell a column, is printed as it is (no copy of 10,000 rows). */
function isText(row: unknown[], columns: number): row is string[] {
  if (row.length !== columns) return false;
  for (const cell of row) if (typeof cell !== 'string') return false;
  return true;
}

/** One line of free text (`cache show`'s value) cut to the terminal width, unless `full`. */
export function fitLine(line: string, full = false, width = terminalWidth()): string {
  return full ? line : truncateText(line, width);
}

const STATE_COLOURS: Record<string, (s: string) => string> = chalk
  ? {
      success: chalk.green,
      failed: chalk.red,
      upstream_failed: chalk.yellow,
      up_for_retry: chalk.yellow,
      skipped: chalk.magenta,
      running: chalk.cyan,
      queued: chalk.gray,
      scheduled: chalk.gray,
    }
  : {};

export function colourState(state: string | null): string {
  if (!state) return '';
  return (STATE_COLOURS[state] ?? plain)(state);
}

const DECISION_COLOURS: Record<string, (s: string) => string> = chalk
  ? {
      hit: chalk.green.bold,
      miss: chalk.yellow,
      off: chalk.gray,
      bypass: chalk.red,
    }
  : {};

export function colourDecision(decision: string | null): string {
  if (!decision) return '';
  return (DECISION_COLOURS[decision] ?? plain)(decision);
}

export function isoOrEmpty(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(ms).toISOString();
}
