import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `dag.is_paused` (0/1), as Airflow's dag table: the API's PATCH /dags/{dag_id} writes it. Another
 * change may add the same column under another migration number, so this one adds it only when it
 * is missing, and its down leaves the column (it cannot know which migration added it).
 */
export class DagIsPaused1700000000008 implements MigrationInterface {
  name = 'DagIsPaused1700000000008';

  async up(q: QueryRunner): Promise<void> {
    if (await q.hasColumn('dag', 'is_paused')) return;
    await q.query('ALTER TABLE dag ADD COLUMN is_paused INTEGER NOT NULL DEFAULT 0');
  }

  async down(): Promise<void> {
    // The column may belong to another migration as well; dropping it here could break that one.
  }
}
