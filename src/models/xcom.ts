import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { XComRow } from '../db/rows.js';
import { perIdChunk } from './id-chunks.js';

/** Where an XCom belongs: a task instance of a run (the columns its rows are keyed by). */
export interface XComOwner {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
}

/** How an XCom value is stored (xcom.value): one form for every write path, the SQLite hit trigger's included. */
export const xcomText = (value: unknown): string => JSON.stringify(value);

/** XComs pushed by some tasks of a run. */
export async function xcomsOf(db: MetadataDb, dagId: string, runId: string, taskIds: string[]): Promise<XComRow[]> {
  return perIdChunk(taskIds, (chunk) =>
    db.query<XComRow[]>(
      `SELECT * FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id IN (${chunk.map(() => '?').join(',')})`,
      [dagId, runId, ...chunk],
    ),
  );
}

/** An XCom row read with a size bound: `value` is null when the stored text is over it (never loaded). */
export interface BoundedXCom {
  task_id: string;
  map_index: number;
  key: string;
  value: string | null;
  /** Length of the stored text, in characters. */
  value_length: number;
}

/**
 * XComs pushed by some tasks of a run, each value's text only when at most `maxChars` long: the
 * length is checked in the DB, so an oversized row (an older version, a hand edit) never reaches
 * the scheduler's memory.
 */
export async function boundedXcomsOf(
  db: MetadataDb,
  dagId: string,
  runId: string,
  taskIds: string[],
  maxChars: number,
): Promise<BoundedXCom[]> {
  // A snapshot read (SQLite: the reader connection): a task's XComs are committed before the scheduler
  // counts it finished, so a render never needs to wait behind this process's queued writes.
  const rows = await perIdChunk(taskIds, (chunk) =>
    db.snapshotQuery<BoundedXCom[]>(
      `SELECT task_id, map_index, key, CASE WHEN length(value) > ? THEN NULL ELSE value END AS value, length(value) AS value_length
       FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id IN (${chunk.map(() => '?').join(',')})`,
      [maxChars, dagId, runId, ...chunk],
    ),
  );
  return rows.map((r) => ({
    task_id: r.task_id,
    map_index: r.map_index,
    key: r.key,
    value: r.value,
    value_length: Number(r.value_length),
  }));
}

/** Pushes XComs (a re-push of the same key replaces it), as one multi-row INSERT. */
export async function writeXComs(
  t: SqlRunner,
  rows: { ti: XComOwner; key: string; value: unknown; at: Date }[],
): Promise<void> {
  if (rows.length === 0) return;
  await t.exec(
    `INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
     ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp`,
    rows.flatMap((r) => [
      r.ti.dag_id,
      r.ti.run_id,
      r.ti.task_id,
      r.ti.map_index,
      r.key,
      xcomText(r.value),
      r.at.getTime(),
    ]),
  );
}

/** The XComs one task instance pushed, by key. */
export function xcomsOfTask(db: MetadataDb, dagId: string, runId: string, taskId: string): Promise<XComRow[]> {
  return db.query<XComRow[]>('SELECT * FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY key', [
    dagId,
    runId,
    taskId,
  ]);
}
