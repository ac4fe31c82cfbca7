import chalk from 'chalk';
import { UsageError } from '../errors.js';
import Table from 'cli-table3';

export type OutputFormat = 'table' | 'json';

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function configureColour(stream: NodeJS.WriteStream = process.stdout): void {
  if (process.env.NO_COLOR !== undefined || !stream.isTTY) chalk.level = 0;
}

export function parseFormat(value: string): OutputFormat {
  if (value !== 'table' && value !== 'json') throw new UsageError(`--output must be 'table' or 'json', got '${value}'`);
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A compact bordered table; headers are bold only when colour is on, so scripts can read it too. */
export function printTable(head: string[], rows: (string | number | null | undefined)[][]): void {
  const table = new Table({ head: head.map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
  for (const r of rows) table.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
  process.stdout.write(table.toString() + '\n');
}

const STATE_COLOURS: Record<string, (s: string) => string> = {
  success: chalk.green,
  failed: chalk.red,
  upstream_failed: chalk.yellow,
  up_for_retry: chalk.yellow,
  skipped: chalk.magenta,
  running: chalk.cyan,
  queued: chalk.gray,
  scheduled: chalk.gray,
};

export function colourState(state: string | null): string {
  if (!state) return '';
  return (STATE_COLOURS[state] ?? ((s: string) => s))(state);
}

const DECISION_COLOURS: Record<string, (s: string) => string> = {
  hit: chalk.green.bold,
  miss: chalk.yellow,
  off: chalk.gray,
  bypass: chalk.red,
};

export function colourDecision(decision: string | null): string {
  if (!decision) return '';
  return (DECISION_COLOURS[decision] ?? ((s: string) => s))(decision);
}

export function isoOrEmpty(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(ms).toISOString();
}
