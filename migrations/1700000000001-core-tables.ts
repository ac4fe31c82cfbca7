import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/** DAGs, DAG runs, task instances, XCom and import errors: Airflow's core tables, trimmed. */
export class CoreTables1700000000001 implements MigrationInterface {
  name = 'CoreTables1700000000001';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`CREATE TABLE dag (
      dag_id VARCHAR(250) PRIMARY KEY,
      fileloc TEXT NOT NULL,
      bundle_name VARCHAR(250) NOT NULL,
      team_name VARCHAR(250),
      dag_hash VARCHAR(64) NOT NULL,
      serialized TEXT NOT NULL,
      last_parsed ${d.time} NOT NULL
    )`);
    await q.query(`CREATE TABLE dag_run (
      id ${d.id},
      dag_id VARCHAR(250) NOT NULL,
      run_id VARCHAR(250) NOT NULL,
      logical_date ${d.time} NOT NULL,
      run_type VARCHAR(50) NOT NULL,
      state VARCHAR(50) NOT NULL,
      conf TEXT NOT NULL,
      refresh_cache INTEGER NOT NULL DEFAULT 0,
      queued_at ${d.time} NOT NULL,
      start_date ${d.time},
      end_date ${d.time},
      CONSTRAINT dag_run_dag_id_run_id_key UNIQUE (dag_id, run_id)
    )`);
    await q.query(`CREATE INDEX idx_dag_run_state ON dag_run (state)`);
    await q.query(`CREATE TABLE task_instance (
      id ${d.id},
      dag_id VARCHAR(250) NOT NULL,
      run_id VARCHAR(250) NOT NULL,
      task_id VARCHAR(250) NOT NULL,
      map_index INTEGER NOT NULL DEFAULT -1,
      state VARCHAR(20),
      operator VARCHAR(250) NOT NULL,
      try_number INTEGER NOT NULL DEFAULT 0,
      max_tries INTEGER NOT NULL DEFAULT 0,
      start_date ${d.time},
      end_date ${d.time},
      duration ${d.real},
      pid INTEGER,
      hostname VARCHAR(250),
      scheduler_id VARCHAR(250),
      queued_at ${d.time},
      next_retry_at ${d.time},
      heartbeat_at ${d.time},
      error TEXT,
      cache_decision VARCHAR(10),
      cache_key VARCHAR(64),
      cache_reason TEXT,
      cache_stored INTEGER,
      cache_source_run_id VARCHAR(250),
      time_saved ${d.real},
      CONSTRAINT task_instance_key UNIQUE (dag_id, run_id, task_id, map_index)
    )`);
    await q.query(`CREATE INDEX idx_task_instance_state ON task_instance (state)`);
    await q.query(`CREATE TABLE xcom (
      id ${d.id},
      dag_id VARCHAR(250) NOT NULL,
      run_id VARCHAR(250) NOT NULL,
      task_id VARCHAR(250) NOT NULL,
      map_index INTEGER NOT NULL DEFAULT -1,
      key VARCHAR(512) NOT NULL,
      value TEXT NOT NULL,
      timestamp ${d.time} NOT NULL,
      CONSTRAINT xcom_key UNIQUE (dag_id, run_id, task_id, map_index, key)
    )`);
    await q.query(`CREATE TABLE import_error (
      id ${d.id},
      filename TEXT NOT NULL,
      bundle_name VARCHAR(250) NOT NULL,
      dag_id VARCHAR(250),
      task_id VARCHAR(250),
      stacktrace TEXT NOT NULL,
      timestamp ${d.time} NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['import_error', 'xcom', 'task_instance', 'dag_run', 'dag']) await q.query(`DROP TABLE ${t}`);
  }
}
