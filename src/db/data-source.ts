import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource, type QueryRunner } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { ConfigError, errorMessage } from '../errors.js';
import { parseConn, type DbKind } from './connection-url.js';
import { DbOutage, type OutagePolicy } from './outage.js';
import { BUSY_RETRY_MS, PreparedStatements } from './prepared-statements.js';
import type { ExecResult, SqlRunner } from './sql-runner.js';
import { SqliteWriteQueue } from './write-queue.js';

export type { DbKind } from './connection-url.js';
export type { ExecResult, SqlRunner } from './sql-runner.js';

/** SQLite's busy_timeout (ms): a writer waits this long for another connection's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

async function runExec(qr: QueryRunner, sql: string, params: unknown[], release: boolean): Promise<ExecResult> {
  try {
    const r = await qr.query(sql, params, true);
    return { affected: r.affected ?? 0, rows: Array.isArray(r.records) ? r.records : [] };
  } finally {
    if (release) await qr.release();
  }
}

/**
 * The metadata DB: plain SQL with `?` placeholders on both engines. On SQLite every statement is a
 * kept prepared statement on the driver's one connection, run in order through the write queue;
 * on PostgreSQL statements go through TypeORM's pool.
 */
export class MetadataDb {
  /** SQLite only: kept statements and the queue that orders them. */
  private readonly sqlite: { statements: PreparedStatements; queue: SqliteWriteQueue } | null;
  /** Set while a scheduler runs: operations wait out an unwritable or unreachable DB (outage.ts). */
  private outage: DbOutage | null = null;

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DbKind,
  ) {
    if (kind !== 'sqlite') {
      this.sqlite = null;
      return;
    }
    const conn = (dataSource.driver as unknown as { databaseConnection?: sqlite3.Database }).databaseConnection;
    if (!conn) throw new Error('the SQLite data source must be initialized before MetadataDb wraps it');
    const statements = new PreparedStatements(conn);
    this.sqlite = { statements, queue: new SqliteWriteQueue(statements) };
  }

  /** From now on (null: no more) operations retry through an outage instead of failing at once. */
  waitOutOutages(policy: OutagePolicy | null): void {
    this.outage = policy ? new DbOutage(policy) : null;
  }

  /** A plain query; on SQLite it waits behind queued statements so it never lands inside a transaction. */
  query<T = unknown[]>(sql: string, params: unknown[] = []): Promise<T> {
    return this.outage ? this.outage.run(() => this.rawQuery<T>(sql, params)) : this.rawQuery<T>(sql, params);
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
    if (s) return s.queue.run(() => s.statements.all<T>(sql, params));
    return this.dataSource.query<T>(this.sql(sql), params);
  }

  private rawExec(sql: string, params: unknown[]): Promise<ExecResult> {
    const s = this.sqlite;
    if (s) return s.queue.run(() => s.statements.run(sql, params));
    return runExec(this.dataSource.createQueryRunner(), this.sql(sql), params, true);
  }

  private rawTransaction<T>(fn: (r: SqlRunner) => Promise<T>): Promise<T> {
    const s = this.sqlite;
    if (s) {
      return s.queue.run(
        () =>
          fn({
            query: <R>(sql: string, params: unknown[] = []) => s.statements.all<R>(sql, params),
            exec: (sql, params = []) => s.statements.run(sql, params),
          }),
        true,
      );
    }
    return this.dataSource.transaction((em) => {
      const qr = em.queryRunner!;
      return fn({
        query: (sql, params = []) => qr.query(this.sql(sql), params),
        exec: (sql, params = []) => runExec(qr, this.sql(sql), params, false),
      });
    });
  }

  /** Names of the migrations applied, oldest first (`db migrate`). */
  appliedMigrations(): Promise<string[]> {
    return this.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id').then((r) => r.map((m) => m.name));
  }

  /** `?` placeholders in, the engine's placeholders out ($1, $2, ... on PostgreSQL). */
  sql(text: string): string {
    if (this.kind === 'sqlite' || !text.includes('?')) return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }

  async close(): Promise<void> {
    await this.sqlite?.queue.drained();
    await this.sqlite?.statements.finalizeAll();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * TypeORM calls `sqlite3.verbose()`, which wraps every database call to capture a stack trace:
 * that alone was the largest cost of a cache hit. This driver's verbose() returns it unchanged.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, { verbose: () => sqlite3 });

/** Opens the metadata DB and applies pending migrations (first use creates the schema). */
export async function openMetadataDb(
  conn: string,
  airflowHome: string,
  opts: { migrate?: boolean; /** SQLite busy_timeout, ms (tests shorten it) */ busyTimeoutMs?: number } = {},
): Promise<MetadataDb> {
  const { kind, target } = parseConn(conn, airflowHome);
  // No entities: the tables are described by migrations/ alone, and every query is SQL in src/models/.
  const common = { entities: [] as [], migrations, synchronize: false, migrationsRun: false, logging: false } as const;
  let dataSource: DataSource;
  if (kind === 'sqlite') {
    mkdirSync(dirname(target), { recursive: true });
    // WAL lets readers (CLI listings, a second scheduler) work while a scheduler writes;
    // busy_timeout makes concurrent writers wait instead of failing.
    dataSource = new DataSource({
      type: 'sqlite',
      database: target,
      driver: quietSqlite3,
      enableWAL: true,
      busyTimeout: opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
      busyErrorRetry: BUSY_RETRY_MS,
      ...common,
    });
  } else {
    dataSource = new DataSource({ type: 'postgres', url: target, ...common, extra: { max: 10 } });
  }
  try {
    await dataSource.initialize();
    if (kind === 'sqlite') await dataSource.query('PRAGMA synchronous = NORMAL');
    if (opts.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    throw new ConfigError(
      'database',
      'sql_alchemy_conn',
      `cannot open ${kind} database ${kind === 'sqlite' ? target : conn}: ${errorMessage(err)}`,
    );
  }
  return new MetadataDb(dataSource, kind);
}
