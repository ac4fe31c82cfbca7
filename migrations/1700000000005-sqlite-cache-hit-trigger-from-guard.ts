import type { MigrationInterface, QueryRunner } from 'typeorm';
import { sqliteHitTriggerSql } from './sql/try-guard.js';

/**
 * SQLite only: rebuilds the cache_hit_write trigger (migration 4) from src/models/sql/try-guard.ts, so
 * the runnable guard and the hit's SET list are written once, for the trigger and the scheduler's
 * own statements alike. Same behaviour as migration 4's trigger. A later change to that guard
 * needs a migration of its own that runs this again (a DB already past this one keeps its trigger).
 */
export class SqliteCacheHitTriggerFromGuard1700000000005 implements MigrationInterface {
  name = 'SqliteCacheHitTriggerFromGuard1700000000005';

  async up(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'sqlite') return;
    await q.query('DROP TRIGGER IF EXISTS cache_hit_write_insert');
    await q.query(sqliteHitTriggerSql());
  }

  async down(): Promise<void> {
    // The trigger this replaced did the same; migration 4's down drops it with its view.
  }
}
