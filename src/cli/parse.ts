import { UsageError, errorMessage } from '../errors.js';

export function parseConf(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--conf is not valid JSON (${errorMessage(e)}): ${text}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`--conf must be a JSON object, got: ${text}`);
  return v as Record<string, unknown>;
}

/** Dates as Airflow takes them: `2026-01-01` or a full ISO 8601 timestamp (UTC when no offset). */
export function parseDate(text: string, what: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(text)
      ? text
      : `${text}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`${what} '${text}' is not a date: use YYYY-MM-DD or an ISO 8601 timestamp`);
  return d;
}

export function parsePositiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a whole number >= 1, got '${text}'`);
  return n;
}
