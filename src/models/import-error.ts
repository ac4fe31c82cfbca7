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

/**
 * Replaces the recorded import errors when they differ from `errors` (file, DAG, task, message);
 * an unchanged set keeps its rows and timestamps, so a refresh that found nothing new writes nothing.
 */
export async function syncImportErrors(t: SqlRunner, errors: readonly ImportErrorRecord[], now: Date): Promise<void> {
  if (!(await importErrorsMatch(t, errors))) await replaceImportErrors(t, errors, now);
}

/** Whether the recorded import errors are exactly these (a plain read: no write lock taken). */
export async function importErrorsMatch(db: Pick<SqlRunner, 'query'>, errors: readonly ImportErrorRecord[]) {
  const rows = await db.query<ImportErrorRow[]>('SELECT * FROM import_error ORDER BY id');
  return (
    rows.length === errors.length &&
    rows.every((r, i) => {
      const e = errors[i];
      return (
        r.filename === e.filename &&
        r.bundle_name === e.bundleName &&
        (r.dag_id ?? undefined) === e.dagId &&
        (r.task_id ?? undefined) === e.taskId &&
        r.stacktrace === e.message
      );
    })
  );
}
