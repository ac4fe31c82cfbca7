import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SQLite only: a cache hit's whole write (claim + success, return_value XCom, cache event) as ONE
 * statement, `INSERT INTO cache_hit_write ...`, which an INSTEAD OF trigger carries out.
 *
 * Why: node-sqlite3 runs every statement on libuv's thread pool, and each round trip costs about
 * 0.13 ms here however small the statement. A hit written as BEGIN, UPDATE, INSERT, INSERT, COMMIT
 * paid five of them; one statement pays one, and SQLite makes a single statement atomic by itself.
 * PostgreSQL keeps the plain transaction (its claim also needs FOR UPDATE SKIP LOCKED).
 *
 * Migration 5 rebuilds this trigger from src/models/sql/try-guard.ts (the one definition of the guard):
 * the task instance is runnable and still at the try number the scheduler saw. When it fails, RAISE(ABORT) undoes this
 * statement alone and the scheduler reads the error as "another scheduler took it".
 */
export class SqliteCacheHitWrite1700000000004 implements MigrationInterface {
  name = 'SqliteCacheHitWrite1700000000004';

  async up(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'sqlite') return;
    // A view with no rows: it exists to be inserted into.
    await q.query(`CREATE VIEW cache_hit_write (
      ti_id, try_number, now_ms, scheduler_id, start_ms, end_ms, hostname,
      decision, cache_key, reason, source_run_id, time_saved, team_name, latency_ms, value
    ) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0`);
    await q.query(`CREATE TRIGGER cache_hit_write_insert INSTEAD OF INSERT ON cache_hit_write
BEGIN
  SELECT RAISE(ABORT, 'miniflow: cache hit lost the claim') WHERE NOT EXISTS (
    SELECT 1 FROM task_instance WHERE id = NEW.ti_id AND try_number = NEW.try_number
      AND (state IS NULL OR (state = 'up_for_retry' AND next_retry_at <= NEW.now_ms)));
  UPDATE task_instance SET state = 'success', scheduler_id = NEW.scheduler_id, try_number = try_number + 1,
      queued_at = NEW.start_ms, next_retry_at = NULL, error = NULL, pid = NULL,
      start_date = NEW.start_ms, end_date = NEW.end_ms, duration = (NEW.end_ms - NEW.start_ms) / 1000.0,
      hostname = NEW.hostname, cache_decision = NEW.decision, cache_key = NEW.cache_key, cache_reason = NEW.reason,
      cache_stored = 0, cache_source_run_id = NEW.source_run_id, time_saved = NEW.time_saved
    WHERE id = NEW.ti_id;
  -- value is the XCom's JSON text; SQL NULL means the cached task pushed no value.
  INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp)
    SELECT dag_id, run_id, task_id, map_index, 'return_value', NEW.value, NEW.end_ms
    FROM task_instance WHERE id = NEW.ti_id AND NEW.value IS NOT NULL
    ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp;
  INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at)
    SELECT dag_id, run_id, task_id, try_number, NEW.team_name, NEW.decision, NEW.cache_key, NEW.reason, NEW.latency_ms, NEW.time_saved, NEW.end_ms
    FROM task_instance WHERE id = NEW.ti_id;
END`);
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'sqlite') return;
    await q.query('DROP TRIGGER cache_hit_write_insert');
    await q.query('DROP VIEW cache_hit_write');
  }
}
