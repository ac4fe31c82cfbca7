import type { MetadataDb } from '../db/data-source.js';

/** What `dags delete` removed, per table. */
export interface DeletedCounts {
  dag_runs: number;
  task_instances: number;
  xcoms: number;
  cache_events: number;
  cache_leases: number;
  dag: number;
}

/**
 * Removes a DAG's rows from the metadata DB in one transaction, as Airflow's `dags delete`: runs,
 * task instances, XComs, cache events and leases, and its `dag` row. Cache entries are the cache's,
 * not the DAG's metadata: `cache clear --dag-id` removes them.
 */
export async function deleteDagRows(db: MetadataDb, dagId: string): Promise<DeletedCounts> {
  return db.transaction(async (t) => {
    const del = async (table: string) => (await t.exec(`DELETE FROM ${table} WHERE dag_id = ?`, [dagId])).affected;
    return {
      xcoms: await del('xcom'),
      task_instances: await del('task_instance'),
      dag_runs: await del('dag_run'),
      cache_events: await del('cache_event'),
      cache_leases: await del('cache_lease'),
      dag: await del('dag'),
    };
  });
}

/** Whether the metadata DB holds anything of this DAG (a DAG whose file is gone can still be deleted). */
export async function hasDagRows(db: MetadataDb, dagId: string): Promise<boolean> {
  const rows = await db.query<unknown[]>(
    'SELECT 1 FROM dag_run WHERE dag_id = ? UNION ALL SELECT 1 FROM dag WHERE dag_id = ?',
    [dagId, dagId],
  );
  return rows.length > 0;
}
