import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { ImportErrorRow } from '../db/rows.js';

/** An import error as the DAG loader reports it. */
export interface ImportErrorRecord {
  filename: string;
  bundleName: string;
  dagId?: string;
  taskId?: string;
  message: string;
}

/** Replaces the recorded import errors with the latest parse's (Airflow's import_error table). */
export async function replaceImportErrors(
  t: SqlRunner,
  errors: readonly ImportErrorRecord[],
  now: Date,
): Promise<void> {
  await t.exec('DELETE FROM import_error');
  for (const e of errors) {
    await t.exec(
      'INSERT INTO import_error (filename, bundle_name, dag_id, task_id, stacktrace, timestamp) VALUES (?, ?, ?, ?, ?, ?)',
      [e.filename, e.bundleName, e.dagId ?? null, e.taskId ?? null, e.message, now.getTime()],
    );
  }
}

/** The recorded import errors, oldest first (the API's GET /importErrors). */
export function listImportErrors(db: MetadataDb): Promise<ImportErrorRow[]> {
  return db.query<ImportErrorRow[]>('SELECT * FROM import_error ORDER BY id');
}
