import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15. Indexes a cache hit's `cache_event` row is cheap to add to. Every hit inserts one row;
 * with the index on `cache_key` (random hex) and the one on `(dag_id, task_id)` (each task's rows of
 * every run side by side) each insert landed on a different page of two growing indexes: about a
 * quarter of SQLite's hit-write time in a warm run (10,000 hits: 222-257 ms, 166-171 ms without). Now:
 * - `cache_key` is indexed for `evict` rows only, the rows looked up by key (a check after an
 *   eviction says so; MissReasons): hits and misses never touch it;
 * - `(dag_id, run_id, task_id, try_number)` replaces `(dag_id, task_id)`: the reads by run and by
 *   try (`tasks logs`, the bench) and deleting a DAG's rows use it, and a run's rows are inserted
 *   side by side.
 * Both engines support partial indexes; `down` restores the two indexes it replaced.
 */
export class CacheEventIndexes1700000000014 implements MigrationInterface {
  name = 'CacheEventIndexes1700000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_cache_event_key');
    await q.query('DROP INDEX idx_cache_event_dag_task');
    await q.query("CREATE INDEX idx_cache_event_evicted_key ON cache_event (cache_key) WHERE decision = 'evict'");
    await q.query('CREATE INDEX idx_cache_event_run ON cache_event (dag_id, run_id, task_id, try_number)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_cache_event_run');
    await q.query('DROP INDEX idx_cache_event_evicted_key');
    await q.query('CREATE INDEX idx_cache_event_dag_task ON cache_event (dag_id, task_id)');
    await q.query('CREATE INDEX idx_cache_event_key ON cache_event (cache_key)');
  }
}
