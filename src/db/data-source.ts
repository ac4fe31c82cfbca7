import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as Sqlite3 from 'sqlite3';
import { MIGRATION_NAMES } from '../../migrations/names.js';
import { ConfigError, errorMessage } from '../errors.js';
import { parseConn, type DbKind } from './connection-url.js';
import { DbOutage, type OutagePolicy } from './outage.js';
import type { PgEngine } from './pg-engine.js';
import { PreparedStatements } from './prepared-statements.js';
import type { ExecResult, SqlRunner } from './sql-runner.js';
import { SqliteWriteQueue } from './write-queue.js';

export type { DbKind } from './connection-url.js';
export type { ExecResult, SqlRunner } from './sql-runner.js';

// sqlite3 is CommonJS: required rather than imported (no scan of its source for export names at start-up).
const sqlite3 = createRequire(import.meta.url)('sqlite3') as typeof Sqlite3;

/** A plain SELECT (no CTE, which may hide a write): answered before its batch commits (write-queue.ts). */
const READ_ONLY = /^\s*SELECT\b/i;

/** SQLite's busy_timeout (ms): a writer waits this long for another connection's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

/** The names TypeORM records in the `migrations` table, oldest first (migrations/names.ts). */
export function knownMigrationNames(): string[] {
  return [...MIGRATION_NAMES];
}

/** How a MetadataDb reaches its engine. */
type Engine =
  { kind: 'sqlite'; conn: Sqlite3.Database; file: string; busyTimeoutMs: number } | { kind: 'postgres'; pg: PgEngine };

/**
 * The metadata DB: plain SQL with `?` placeholders on both engines. On SQLite every statement is a
 * kept prepared statement on the driver's one connection (opened here, without TypeORM), run in
 * order through the write queue; on PostgreSQL statements go through pg's pool (pg-engine.ts).
 */
export class MetadataDb {
  readonly kind: DbKind;
  /** SQLite only: kept statements and the queue that orders them. */
  private readonly sqlite: { statements: PreparedStatements; queue: SqliteWriteQueue } | null;
  /** Set while a scheduler runs: operations wait out an unwritable or unreachable DB (outage.ts). */
  private outage: DbOutage | null = null;
  /** SQLite only: a second connection for `snapshotQuery`, opened on first use (null: it failed to open). */
  private reader: Promise<{ conn: Sqlite3.Database; statements: PreparedStatements } | null> | null = null;
  private closing = false;

  constructor(private readonly engine: Engine) {
    this.kind = engine.kind;
    if (engine.kind !== 'sqlite') {
      this.sqlite = null;
      return;
    }
    const statements = new PreparedStatements(engine.conn);
    this.sqlite = { statements, queue: new SqliteWriteQueue(statements) };
  }

  private get pg(): PgEngine {
    if (this.engine.kind !== 'postgres') throw new Error('a SQLite MetadataDb has no PostgreSQL pool');
    return this.engine.pg;
  }

  /** SQLite's one connection (tests trace it); null on PostgreSQL. */
  get sqliteConnection(): Sqlite3.Database | null {
    return this.engine.kind === 'sqlite' ? this.engine.conn : null;
  }

  /** From now on (null: no more) operations retry through an outage instead of failing at once. */
  waitOutOutages(policy: OutagePolicy | null): void {
    this.outage = policy ? new DbOutage(policy) : null;
  }

  /** A plain query; on SQLite it waits behind queued statements so it never lands inside a transaction. */
  query<T = unknown[]>(sql: string, params: unknown[] = []): Promise<T> {
    return this.outage ? this.outage.run(() => this.rawQuery<T>(sql, params)) : this.rawQuery<T>(sql, params);
  }

  /**
   * A read that need not see this process's own writes still queued (a cache lookup: a miss for an
   * entry not yet committed is what another scheduler would see anyway). On SQLite it runs on a
   * second connection, on its own thread, beside the writer: the lookups of a warm run are then
   * answered while the previous hits are being written, instead of waiting behind them in the
   * queue. WAL gives that connection the last committed state. PostgreSQL's pool already does this.
   */
  snapshotQuery<T = unknown[]>(sql: string, params: unknown[] = []): Promise<T> {
    if (this.engine.kind !== 'sqlite') return this.query<T>(sql, params);
    const read = async () => {
      const r = await this.openReader();
      return r ? r.statements.all<T>(sql, params) : this.rawQuery<T>(sql, params);
    };
    return this.outage ? this.outage.run(read) : read();
  }

  private openReader(): Promise<{ conn: Sqlite3.Database; statements: PreparedStatements } | null> {
    const e = this.engine;
    // Once closing, a late read goes to the main connection (and fails there) rather than open one that nothing closes.
    if (e.kind !== 'sqlite' || this.closing) return Promise.resolve(null);
    // A reader that cannot open (a file gone read-only...) leaves reads on the main connection.
    this.reader ??= openSqlite(e.file, e.busyTimeoutMs, true).then(
      (conn) => ({ conn, statements: new PreparedStatements(conn) }),
      () => null,
    );
    return this.reader;
  }

  /** Like `query`, for INSERT/UPDATE/DELETE: how many rows changed (guarded state transitions read this). */
  exec(sql: string, params: unknown[] = []): Promise<ExecResult> {
    return this.outage ? this.outage.run(() => this.rawExec(sql, params)) : this.rawExec(sql, params);
  }

  /** A transaction with `?`-placeholder helpers (the whole body is run again after an outage). */
  transaction<T>(fn: (r: SqlRunner) => Promise<T>): Promise<T> {
    return this.outage ? this.outage.run(() => this.rawTransaction(fn)) : this.rawTransaction(fn);
  }

  private rawQuery<T>(sql: string, params: unknown[]): Promise<T> {
    const s = this.sqlite;
    if (s) return s.queue.run(() => s.statements.all<T>(sql, params), { read: READ_ONLY.test(sql) });
    return this.pg.query<T>(this.sql(sql), params);
  }

  private rawExec(sql: string, params: unknown[]): Promise<ExecResult> {
    const s = this.sqlite;
    if (s) return s.queue.run(() => s.statements.run(sql, params));
    return this.pg.exec(this.sql(sql), params);
  }

  private rawTransaction<T>(fn: (r: SqlRunner) => Promise<T>): Promise<T> {
    const s = this.sqlite;
    if (s) {
      return s.queue.run(
        () =>
          fn({
            query: <R>(sql: string, params: unknown[] = []) => s.statements.all<R>(sql, params),
            exec: (sql, params = [], onIssued) => s.statements.run(sql, params, onIssued),
          }),
        { group: true },
      );
    }
    return this.pg.transaction((r) =>
      fn({
        query: (sql, params = []) => r.query(this.sql(sql), params),
        exec: (sql, params = [], onIssued) => r.exec(this.sql(sql), params, onIssued),
      }),
    );
  }

  /** Names of the migrations applied, oldest first (`db migrate`). */
  appliedMigrations(): Promise<string[]> {
    return this.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id').then((r) => r.map((m) => m.name));
  }

  /**
   * The known migrations this DB has not applied, by one query on the `migrations` table; all of
   * them when it cannot be read (a fresh DB), and TypeORM's migration run then says what is wrong.
   */
  async pendingMigrations(): Promise<string[]> {
    const applied = new Set(await this.appliedMigrations().catch(() => [] as string[]));
    return knownMigrationNames().filter((name) => !applied.has(name));
  }

  /** Applies pending migrations through TypeORM, loaded only now. */
  async migrate(): Promise<void> {
    const typeorm = await import('./typeorm-source.js');
    const e = this.engine;
    if (e.kind === 'sqlite') await typeorm.migrateSqliteFile(e.file, e.busyTimeoutMs);
    else await typeorm.migratePostgres(e.pg.url);
  }

  /** `?` placeholders in, the engine's placeholders out ($1, $2, ... on PostgreSQL). */
  sql(text: string): string {
    if (this.kind === 'sqlite' || !text.includes('?')) return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.sqlite?.queue.drained();
    await this.sqlite?.statements.finalizeAll();
    const reader = await this.reader;
    this.reader = null;
    if (reader) {
      await reader.statements.finalizeAll();
      await new Promise<void>((resolve) => reader.conn.close(() => resolve()));
    }
    const e = this.engine;
    if (e.kind === 'sqlite')
      await new Promise<void>((resolve, reject) => e.conn.close((err) => (err ? reject(err) : resolve())));
    else await e.pg.close();
  }
}

/**
 * Opens SQLite with the settings TypeORM gave it: WAL lets readers (CLI listings, a second
 * scheduler) work while a scheduler writes; busy_timeout makes concurrent writers wait instead of
 * failing; foreign keys on; synchronous NORMAL (safe with WAL, one fsync per checkpoint); temporary
 * storage in memory: a batch of hit writes (one statement of 250 rows, through triggers) keeps a
 * statement journal that spilled past 64 KiB into a temp file, 30,000 page writes of a warm
 * 10,000-task run's 52,000 (sorts of the snapshot reads went there too).
 */
async function openSqlite(file: string, busyTimeoutMs: number, queryOnly = false): Promise<Sqlite3.Database> {
  mkdirSync(dirname(file), { recursive: true });
  const conn = await new Promise<Sqlite3.Database>((resolve, reject) => {
    const db = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(db)));
  });
  conn.configure('busyTimeout', busyTimeoutMs);
  const pragmas = queryOnly
    ? 'PRAGMA query_only = ON; PRAGMA temp_store = MEMORY;'
    : 'PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;';
  try {
    await new Promise<void>((resolve, reject) => conn.exec(pragmas, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

/**
 * Opens the metadata DB and applies pending migrations (first use creates the schema). Only a DB
 * whose `migrations` table lacks a known migration loads TypeORM to migrate it.
 */
export async function openMetadataDb(
  conn: string,
  airflowHome: string,
  opts: { migrate?: boolean; /** SQLite busy_timeout, ms (tests shorten it) */ busyTimeoutMs?: number } = {},
): Promise<MetadataDb> {
  const { kind, target } = parseConn(conn, airflowHome);
  let db: MetadataDb | null = null;
  try {
    if (kind === 'sqlite') {
      const busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
      db = new MetadataDb({ kind, conn: await openSqlite(target, busyTimeoutMs), file: target, busyTimeoutMs });
    } else {
      const { PgEngine } = await import('./pg-engine.js');
      db = new MetadataDb({ kind, pg: await PgEngine.open(target) });
    }
    if (opts.migrate !== false && (await db.pendingMigrations()).length > 0) await db.migrate();
  } catch (err) {
    await db?.close().catch(() => undefined);
    throw new ConfigError(
      'database',
      'sql_alchemy_conn',
      `cannot open ${kind} database ${kind === 'sqlite' ? target : conn}: ${errorMessage(err)}`,
    );
  }
  return db;
}
