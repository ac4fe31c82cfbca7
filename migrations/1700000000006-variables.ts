import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialect } from './dialect.js';

/**
 * Airflow's Variables: key/value pairs templates read as `var.value.KEY` / `var.json.KEY`. In
 * multi_team mode a variable belongs to a team; team_name '' is a global variable (not NULL, so
 * the unique key also holds for global ones on both engines).
 */
export class Variables1700000000006 implements MigrationInterface {
  name = 'Variables1700000000006';

  async up(q: QueryRunner): Promise<void> {
    const d = dialect(q);
    await q.query(`CREATE TABLE variable (
      id ${d.id},
      key VARCHAR(250) NOT NULL,
      val TEXT NOT NULL,
      description TEXT,
      team_name VARCHAR(250) NOT NULL DEFAULT '',
      updated_at ${d.time} NOT NULL
    )`);
    await q.query('CREATE UNIQUE INDEX variable_team_key ON variable (team_name, key)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX variable_team_key');
    await q.query('DROP TABLE variable');
  }
}
