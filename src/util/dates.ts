import { DateTime } from './luxon.js';

/** The forms a date may be given in, for error messages. */
export const ACCEPTED_DATE_FORMS =
  'YYYY-MM-DD (2026-01-31) or an ISO 8601 timestamp (2026-01-31T06:00:00Z, 2026-01-31T06:00:00+02:00; UTC when no offset)';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** A full ISO 8601 date and time: luxon alone also takes week dates, ordinals and bare years. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * Dates as Airflow takes them on the command line: `YYYY-MM-DD` (midnight UTC) or an ISO 8601
 * timestamp, UTC when it has no offset. Checked by luxon, so 2026-02-30 is refused rather than
 * rolled over to March (as `new Date` does). Returns the date, or why the text is not one.
 */
export function parseCliDate(text: string): { date: Date } | { error: string } {
  const t = text.trim();
  if (!DATE_ONLY.test(t) && !DATE_TIME.test(t)) return { error: 'is not in an accepted form' };
  const parsed = DateTime.fromISO(t.replace(' ', 'T'), { zone: 'utc', setZone: true });
  if (!parsed.isValid) return { error: `is not a valid date (${parsed.invalidExplanation ?? parsed.invalidReason})` };
  return { date: parsed.toJSDate() };
}
