import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/** The metadata-DB cache backend's entries, and one event per cache decision (read by `cache stats`). */
export class TaskCache1700000000002 implements MigrationInterface {
  name = 'TaskCache1700000000002';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`CREATE TABLE task_cache_entry (
      cache_key VARCHAR(64) PRIMARY KEY,
      team_name VARCHAR(250),
      dag_id VARCHAR(250) NOT NULL,
      task_id VARCHAR(250) NOT NULL,
      value TEXT NOT NULL,
      components TEXT NOT NULL,
      created_at ${d.time} NOT NULL,
      expires_at ${d.time},
      size_bytes INTEGER NOT NULL,
      hits INTEGER NOT NULL DEFAULT 0,
      last_hit_at ${d.time},
      source_run_id VARCHAR(250) NOT NULL,
      source_try_number INTEGER NOT NULL,
      duration ${d.real} NOT NULL
    )`);
    await q.query(`CREATE INDEX idx_task_cache_entry_team ON task_cache_entry (team_name)`);
    await q.query(`CREATE INDEX idx_task_cache_entry_dag_task ON task_cache_entry (dag_id, task_id)`);
    await q.query(`CREATE INDEX idx_task_cache_entry_expires ON task_cache_entry (expires_at)`);
    await q.query(`CREATE TABLE cache_event (
      id ${d.id},
      dag_id VARCHAR(250) NOT NULL,
      run_id VARCHAR(250) NOT NULL,
      task_id VARCHAR(250) NOT NULL,
      try_number INTEGER NOT NULL,
      team_name VARCHAR(250),
      decision VARCHAR(10) NOT NULL,
      cache_key VARCHAR(64),
      reason TEXT NOT NULL,
      latency_ms ${d.real},
      time_saved ${d.real},
      created_at ${d.time} NOT NULL
    )`);
    await q.query(`CREATE INDEX idx_cache_event_created ON cache_event (created_at)`);
    await q.query(`CREATE INDEX idx_cache_event_dag_task ON cache_event (dag_id, task_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cache_event`);
    await q.query(`DROP TABLE task_cache_entry`);
  }
}
