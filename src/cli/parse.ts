import { UsageError, errorMessage } from '../errors.js';
import { ACCEPTED_DATE_FORMS, parseCliDate } from '../util/dates.js';
import { idTooLongForLogPath } from '../util/log-path.js';

/** How much of a bad argument an error message quotes: enough to recognise it, never a screenful. */
const QUOTE_CHARS = 80;

/** `text` quoted for an error message, cut to its first 80 characters. */
export function quoteShort(text: string): string {
  const cut = text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text;
  return `'${cut}'${text.length > QUOTE_CHARS ? ` (${text.length} characters)` : ''}`;
}

export function parseConf(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--conf is not valid JSON (${errorMessage(e).slice(0, 200)}): ${quoteShort(text)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`--conf must be a JSON object, got: ${quoteShort(text)}`);
  return v as Record<string, unknown>;
}

/** Dates as Airflow takes them: `2026-01-01` or a full ISO 8601 timestamp (UTC when no offset). */
export function parseDate(text: string, what: string): Date {
  const parsed = parseCliDate(text);
  if ('error' in parsed)
    throw new UsageError(`${what} ${quoteShort(text)} ${parsed.error}: use ${ACCEPTED_DATE_FORMS}`);
  return parsed.date;
}

/** A `--run-id`: not empty, and short enough to name its log folder. */
export function parseRunId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw new UsageError('--run-id must not be empty');
  const tooLong = idTooLongForLogPath('run_id', text);
  if (tooLong) throw new UsageError(`--run-id ${quoteShort(text)}: ${tooLong}`);
  return text;
}

export function parsePositiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a whole number >= 1, got '${text}'`);
  return n;
}

/** `--map-index N`: a mapped task instance's index (0..n-1). */
export function parseMapIndex(text: string | undefined): number {
  if (text === undefined) return -1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--map-index must be a whole number >= 0, got '${text}'`);
  return n;
}
