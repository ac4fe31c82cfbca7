import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13. `task_cache_entry.outputs`: the files a producing run left (JSON [{path, hash}]), checked
 * before a hit is served; `task_cache_entry.accepted`: who re-keyed the entry with `cache accept`,
 * and when (JSON). `file_hash_memo`: a file's content hash by (path, size, mtime, inode), so an
 * unchanged large input or output file is not re-read on every check. `cache_event.size_bytes` and
 * an index on `cache_event.cache_key`: quota evictions are `evict` events (key, bytes), so the key's
 * next check can say it was evicted and `cache stats` can count evicted bytes.
 */
export class CacheOutputsAndFileMemo1700000000011 implements MigrationInterface {
  name = 'CacheOutputsAndFileMemo1700000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE task_cache_entry ADD COLUMN outputs TEXT');
    await q.query('ALTER TABLE task_cache_entry ADD COLUMN accepted TEXT');
    await q.query(`CREATE TABLE file_hash_memo (
      path TEXT NOT NULL PRIMARY KEY,
      size BIGINT NOT NULL,
      mtime_ms DOUBLE PRECISION NOT NULL,
      inode TEXT NOT NULL,
      sha256 VARCHAR(64) NOT NULL
    )`);
    await q.query('ALTER TABLE cache_event ADD COLUMN size_bytes BIGINT');
    await q.query('CREATE INDEX idx_cache_event_key ON cache_event (cache_key)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_cache_event_key');
    await q.query('ALTER TABLE cache_event DROP COLUMN size_bytes');
    await q.query('DROP TABLE file_hash_memo');
    await q.query('ALTER TABLE task_cache_entry DROP COLUMN accepted');
    await q.query('ALTER TABLE task_cache_entry DROP COLUMN outputs');
  }
}
