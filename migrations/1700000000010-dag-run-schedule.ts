import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/**
 * Schedules: each DAG run's data interval (Airflow's `data_interval_start`/`data_interval_end`), and
 * whether a DAG is paused. `dag.is_paused` may already exist (another migration adds it for the web
 * API), so it is added only when absent. Existing DAGs stay unpaused: they were being run before.
 */
export class DagRunSchedule1700000000010 implements MigrationInterface {
  name = 'DagRunSchedule1700000000010';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`ALTER TABLE dag_run ADD COLUMN data_interval_start ${d.time}`);
    await q.query(`ALTER TABLE dag_run ADD COLUMN data_interval_end ${d.time}`);
    // Runs made before this migration cover their logical date only, as manual runs of unscheduled DAGs.
    await q.query(`UPDATE dag_run SET data_interval_start = logical_date, data_interval_end = logical_date`);
    // The creator of scheduled runs looks up a DAG's latest scheduled run.
    await q.query(`CREATE INDEX idx_dag_run_dag_type ON dag_run (dag_id, run_type, logical_date)`);
    if (!(await hasColumn(q, 'dag', 'is_paused'))) {
      await q.query(`ALTER TABLE dag ADD COLUMN is_paused INTEGER NOT NULL DEFAULT 0`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_dag_run_dag_type`);
    await q.query(`ALTER TABLE dag_run DROP COLUMN data_interval_end`);
    await q.query(`ALTER TABLE dag_run DROP COLUMN data_interval_start`);
  }
}

async function hasColumn(q: QueryRunner, table: string, column: string): Promise<boolean> {
  if (q.connection.options.type === 'postgres') {
    const rows = (await q.query(
      'SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2',
      [table, column],
    )) as unknown[];
    return rows.length > 0;
  }
  const cols = (await q.query(`PRAGMA table_info(${table})`)) as { name: string }[];
  return cols.some((c) => c.name === column);
}
