import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dynamic task mapping. task_instance and xcom have carried map_index (default -1, part of their
 * unique keys) since migration 1; a cache entry now records the map_index of the mapped instance
 * that produced it, so a hit's reason can name it. map_index is never part of the cache key.
 */
export class MapIndex1700000000009 implements MigrationInterface {
  name = 'MapIndex1700000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE task_cache_entry ADD COLUMN source_map_index INTEGER NOT NULL DEFAULT -1');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE task_cache_entry DROP COLUMN source_map_index');
  }
}
