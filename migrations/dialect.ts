import type { QueryRunner } from 'typeorm';

/** Column spellings that differ between SQLite and PostgreSQL; the migrations are otherwise shared. */
export function dialect(queryRunner: QueryRunner) {
  const pg = queryRunner.connection.options.type === 'postgres';
  return {
    /** Auto-increment integer primary key. */
    id: pg ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT',
    /** Times are epoch milliseconds as doubles: one representation on both engines, no timezone surprises. */
    time: pg ? 'DOUBLE PRECISION' : 'REAL',
    real: pg ? 'DOUBLE PRECISION' : 'REAL',
  };
}
