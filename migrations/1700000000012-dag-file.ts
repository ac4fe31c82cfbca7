import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/**
 * Issue 15. `dag_file`: per DAG file of a bundle, what its last parse saw (size, mtime, sha256 of
 * the bytes, the load options, every callable module it read with their fingerprints) and what it
 * produced (its dag_id and a summary for `dags list`, or its import error). A refresh re-reads only
 * files whose fingerprint changed and re-parses only those whose content or dependencies changed.
 */
export class DagFile1700000000012 implements MigrationInterface {
  name = 'DagFile1700000000012';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`CREATE TABLE dag_file (
      bundle_name VARCHAR(250) NOT NULL,
      fileloc TEXT NOT NULL,
      size BIGINT NOT NULL,
      mtime_ms ${d.real} NOT NULL,
      content_hash VARCHAR(64) NOT NULL,
      options_hash VARCHAR(64) NOT NULL,
      dag_id VARCHAR(250),
      import_error TEXT,
      deps TEXT NOT NULL,
      summary TEXT,
      read_at_ms ${d.real} NOT NULL,
      last_parsed ${d.time} NOT NULL,
      PRIMARY KEY (bundle_name, fileloc)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dag_file');
  }
}
