import pg from 'pg';
import type { ExecResult, SqlRunner } from './sql-runner.js';

/** Connections per process: a scheduler's hit writes, lookups and claims run side by side. */
const POOL_SIZE = 10;

/**
 * PostgreSQL through pg's own pool, with `$n` placeholders (MetadataDb converts `?`). TypeORM stays
 * the migration tool (typeorm-source.ts, loaded only to migrate); a statement here is one pool
 * checkout and one round trip, without TypeORM's query runner, its events and its import (a
 * quarter of a second of every command) or the three queries its pool runs on connecting.
 */
export class PgEngine {
  private constructor(
    readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  /** Opens the pool and checks that one connection can be made (the caller reports a bad URL). */
  static async open(url: string): Promise<PgEngine> {
    const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
    // An idle connection's error (a server restart) is emitted on the pool: without a listener it
    // would end the process. The pool drops that connection; the next statement opens another.
    pool.on('error', () => undefined);
    try {
      (await pool.connect()).release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PgEngine(url, pool);
  }

  async query<T>(sql: string, params: unknown[]): Promise<T> {
    return (await this.pool.query(sql, params)).rows as T;
  }

  async exec(sql: string, params: unknown[]): Promise<ExecResult> {
    const r = await this.pool.query(sql, params);
    return { affected: r.rowCount ?? 0, rows: r.rows };
  }

  /** BEGIN, the body on one connection, COMMIT; ROLLBACK when it throws (a lost connection is dropped). */
  async transaction<T>(fn: (r: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const runner: SqlRunner = {
      query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R,
      exec: async (sql, params = [], onIssued) => {
        const sent = client.query(sql, params);
        onIssued?.();
        const r = await sent;
        return { affected: r.rowCount ?? 0, rows: r.rows };
      },
    };
    try {
      await client.query('BEGIN');
      const value = await fn(runner);
      await client.query('COMMIT');
      client.release();
      return value;
    } catch (err) {
      let broken: Error | undefined;
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      client.release(broken);
      throw err;
    }
  }

  /** Ends the pool; a second call (a close after a failed open, say) does nothing. */
  async close(): Promise<void> {
    if (!this.pool.ended && !this.pool.ending) await this.pool.end();
  }
}
