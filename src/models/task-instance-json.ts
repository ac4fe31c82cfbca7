/**
 * Many task instance rows read on SQLite as ONE JSON text (one array per row) instead of row
 * objects. node-sqlite3 turns every column of every row into a JS value through its C++ row copy:
 * for a 10,000-task run that took ~150 ms of CPU for `SELECT *`, while SQLite writes the same rows
 * as JSON in ~25 ms and JSON.parse reads them back in ~8 ms.
 */
import type { MetadataDb } from '../db/data-source.js';

/**
 * REAL columns travel as text with 17 significant digits: SQLite's JSON writes a REAL with 15,
 * which would change durations, and 17 digits always read back as the same double.
 */
const realColumn = (c: string) => `CASE WHEN ${c} IS NULL THEN NULL ELSE printf('%!.17g', ${c}) END`;

/** A REAL column's text back to the number node-sqlite3 would have returned. */
export function realValue(text: unknown): number | null {
  if (text === null || text === undefined) return null;
  if (text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * The rows of `SELECT <columns> <rest>` (rest: FROM, WHERE, ORDER BY, LIMIT), each an array of its
 * values in column order, REAL columns (named in `reals`) as text for realValue. Rows keep the
 * order `rest` gives them (an aggregate over an ordered subquery keeps it).
 */
export async function jsonRows(
  db: MetadataDb,
  columns: readonly string[],
  reals: ReadonlySet<string>,
  rest: string,
  params: unknown[],
): Promise<unknown[][]> {
  const values = columns.map((c) => (reals.has(c) ? realColumn(c) : c)).join(', ');
  const rows = await db.query<{ rows: string }[]>(
    `SELECT json_group_array(json_array(${values})) AS rows FROM (SELECT ${columns.join(', ')} ${rest})`,
    params,
  );
  return JSON.parse(rows[0]?.rows ?? '[]') as unknown[][];
}
