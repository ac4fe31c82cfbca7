import type sqlite3 from 'sqlite3';
import type { ExecResult } from './sql-runner.js';

/** Prepared statements kept per connection (least recently used dropped first). */
const MAX_PREPARED = 256;

/** After busy_timeout ran out, wait this long and try again (what TypeORM's busyErrorRetry did). */
export const BUSY_RETRY_MS = 50;

/**
 * SQLite statements, prepared once and reused. node-sqlite3's `db.all(sql)` prepares, runs and
 * finalizes a new statement each time: three trips through libuv's thread pool. A kept statement
 * makes it one (measured here: 0.09 -> 0.03 ms per statement), and the scheduler's hot path runs
 * the same few statements over and over. Only `all` and `run` are used: both step to the end (or
 * fail, which halts the statement), so a kept statement never holds a lock between uses, and
 * node-sqlite3 resets it before each use.
 */
export class PreparedStatements {
  /** Promises, so two callers preparing the same new text share one statement. */
  private readonly cache = new Map<string, Promise<sqlite3.Statement>>();

  constructor(private readonly conn: sqlite3.Database) {}

  all<T = unknown[]>(sql: string, params: unknown[]): Promise<T> {
    return this.retryBusy(async () => {
      const stmt = await this.get(sql);
      return new Promise<T>((resolve, reject) =>
        stmt.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T))),
      );
    });
  }

  run(sql: string, params: unknown[], onIssued?: () => void): Promise<ExecResult> {
    return this.retryBusy(async () => {
      const stmt = await this.get(sql);
      const done = new Promise<ExecResult>((resolve, reject) =>
        stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ affected: this.changes, rows: [] });
        }),
      );
      onIssued?.();
      return done;
    });
  }

  /** Every kept statement finalized: SQLite will not close a connection with live statements. */
  async finalizeAll(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (s) => new Promise<void>((r) => s.finalize(() => r())),
          () => undefined,
        ),
      ),
    );
  }

  /**
   * busy_timeout already waited; another process still holds the write lock (a long `cache clear`,
   * a backup). Keep waiting rather than fail a state change whose work is done.
   */
  private async retryBusy<T>(attempt: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        if ((err as { code?: string })?.code !== 'SQLITE_BUSY') throw err;
        await new Promise((r) => setTimeout(r, BUSY_RETRY_MS));
      }
    }
  }

  private get(sql: string): Promise<sqlite3.Statement> {
    const kept = this.cache.get(sql);
    if (kept) {
      this.cache.delete(sql); // most recently used goes last
      this.cache.set(sql, kept);
      return kept;
    }
    const prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
      const s = this.conn.prepare(sql, (err) => (err ? reject(err) : resolve(s)));
    });
    this.cache.set(sql, prepared);
    // A text that does not prepare is not kept.
    prepared.catch(() => this.cache.get(sql) === prepared && this.cache.delete(sql));
    if (this.cache.size > MAX_PREPARED) {
      // node-sqlite3 runs one statement's calls in order, a finalize after any still queued, so
      // dropping the least recently used never cuts a use short (the reader runs lookups side by side).
      const [oldestSql, oldest] = this.cache.entries().next().value as [string, Promise<sqlite3.Statement>];
      this.cache.delete(oldestSql);
      oldest.then(
        (s) => s.finalize(),
        () => undefined,
      );
    }
    return prepared;
  }
}
