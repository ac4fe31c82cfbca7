import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/**
 * Crash recovery and single-flight as plain data: each scheduler's heartbeat (a task instance
 * owned by a scheduler whose heartbeat is stale, or whose pid is gone, is a zombie), and a lease
 * per cache key so concurrent runs of one key execute once.
 */
export class SchedulerJobsAndLeases1700000000003 implements MigrationInterface {
  name = 'SchedulerJobsAndLeases1700000000003';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`CREATE TABLE scheduler_job (
      id VARCHAR(250) PRIMARY KEY,
      hostname VARCHAR(250) NOT NULL,
      pid INTEGER NOT NULL,
      state VARCHAR(20) NOT NULL,
      start_date ${d.time} NOT NULL,
      latest_heartbeat ${d.time} NOT NULL,
      end_date ${d.time}
    )`);
    await q.query(`CREATE TABLE cache_lease (
      cache_key VARCHAR(64) PRIMARY KEY,
      owner VARCHAR(250) NOT NULL,
      dag_id VARCHAR(250) NOT NULL,
      run_id VARCHAR(250) NOT NULL,
      task_id VARCHAR(250) NOT NULL,
      acquired_at ${d.time} NOT NULL,
      expires_at ${d.time} NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE cache_lease');
    await q.query('DROP TABLE scheduler_job');
  }
}
