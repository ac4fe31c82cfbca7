import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { ConfigError, errorMessage } from '../errors.js';
import { entities } from './entities.js';

export type DbKind = 'sqlite' | 'postgres';

export interface ExecResult {
  affected: number;
  rows: any[];
}

/** What a transaction body gets: queries with `?` placeholders on every engine. */
export interface SqlRunner {
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
  exec(sql: string, params?: unknown[]): Promise<ExecResult>;
}

async function runExec(qr: QueryRunner, sql: string, params: unknown[], release: boolean): Promise<ExecResult> {
  try {
    const r = await qr.query(sql, params, true);
    return { affected: r.affected ?? 0, rows: Array.isArray(r.records) ? r.records : [] };
  } finally {
    if (release) await qr.release();
  }
}

/**
 * The metadata DB: a TypeORM DataSource plus the one place access is serialized for SQLite.
 *
 * SQLite has a single connection per process, so every statement goes through one long-lived
 * QueryRunner in order (no runner created per statement: that doubled the cost of a write on the
 * scheduler's hot path), and transactions start with BEGIN IMMEDIATE so two scheduler processes
 * never deadlock upgrading a read lock; busy_timeout makes the second one wait instead.
 */
interface QueuedOp {
  /** The statement(s); a group (a transaction body) must be all-or-nothing. */
  run: () => Promise<unknown>;
  group: boolean;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
}

/** Most operations one SQLite transaction takes; bounds how long one batch holds the write lock. */
const MAX_BATCH = 256;

/** Prepared statements kept per connection (least recently used dropped first). */
const MAX_PREPARED = 256;

/** SQLite's busy_timeout (ms): a writer waits this long for another connection's write lock. */
const BUSY_TIMEOUT_MS = 10_000;
/** After busy_timeout ran out, wait this long and try again (what TypeORM's busyErrorRetry did). */
const BUSY_RETRY_MS = 50;

/**
 * SQLite statements, prepared once and reused. node-sqlite3's `db.all(sql)` prepares, runs and
 * finalizes a new statement each time: three trips through libuv's thread pool. A kept statement
 * makes it one (measured here: 0.09 -> 0.03 ms per statement), and the scheduler's hot path runs
 * the same few statements over and over. Only `all` and `run` are used: both step to the end (or
 * fail, which halts the statement), so a kept statement never holds a lock between uses, and
 * node-sqlite3 resets it before each use.
 */
class PreparedStatements {
  /** Promises, so two callers preparing the same new text share one statement. */
  private readonly cache = new Map<string, Promise<sqlite3.Statement>>();

  constructor(private readonly conn: sqlite3.Database) {}

  all<T = any>(sql: string, params: unknown[]): Promise<T> {
    return this.retryBusy(async () => {
      const stmt = await this.get(sql);
      return new Promise<T>((resolve, reject) =>
        stmt.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T))),
      );
    });
  }

  run(sql: string, params: unknown[]): Promise<ExecResult> {
    return this.retryBusy(async () => {
      const stmt = await this.get(sql);
      return new Promise<ExecResult>((resolve, reject) =>
        stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ affected: this.changes, rows: [] });
        }),
      );
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
      // Operations run one at a time, so the least recently used statement is not in use.
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

export class MetadataDb {
  private readonly queue: QueuedOp[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  /** SQLite: TypeORM's runner on the driver's one connection, for `tx()` (EntityManager callers). */
  private readonly runner: QueryRunner | null;
  /** SQLite: every other statement, prepared once, on that same connection (same order, same transactions). */
  private readonly prepared: PreparedStatements | null;

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DbKind,
  ) {
    if (kind !== 'sqlite') {
      this.runner = null;
      this.prepared = null;
      return;
    }
    const conn = (dataSource.driver as unknown as { databaseConnection?: sqlite3.Database }).databaseConnection;
    if (!conn) throw new Error('the SQLite data source must be initialized before MetadataDb wraps it');
    this.runner = dataSource.createQueryRunner();
    this.prepared = new PreparedStatements(conn);
  }

  /** Runs `fn` in a transaction with TypeORM's EntityManager (PostgreSQL: a pooled connection). */
  tx<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (!this.runner) return this.dataSource.transaction(fn);
    const runner = this.runner;
    return this.serialized(() => fn(runner.manager), true);
  }

  /** A plain query; on SQLite it waits behind queued statements so it never lands inside a transaction. */
  query<T = any>(sql: string, params: unknown[] = []): Promise<T> {
    const prepared = this.prepared;
    if (prepared) return this.serialized(() => prepared.all<T>(sql, params));
    return this.dataSource.query(this.sql(sql), params) as Promise<T>;
  }

  /** Like `query`, for INSERT/UPDATE/DELETE: how many rows changed (guarded state transitions read this). */
  exec(sql: string, params: unknown[] = []): Promise<ExecResult> {
    const prepared = this.prepared;
    if (prepared) return this.serialized(() => prepared.run(sql, params));
    return runExec(this.dataSource.createQueryRunner(), this.sql(sql), params, true);
  }

  /** A transaction with `?`-placeholder helpers. */
  transaction<T>(fn: (r: SqlRunner) => Promise<T>): Promise<T> {
    const prepared = this.prepared;
    if (prepared) {
      return this.serialized(
        () =>
          fn({
            query: <R>(sql: string, params: unknown[] = []) => prepared.all<R>(sql, params),
            exec: (sql, params = []) => prepared.run(sql, params),
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

  /**
   * Queues one SQLite operation. Operations queued while others run are committed together in one
   * BEGIN IMMEDIATE ... COMMIT: with many task instances finishing at once (cache hits above all)
   * this turns a commit per statement into a commit per batch. A failing statement fails alone
   * (SQLite undoes just that statement); a failing group rolls the batch back, and the batch is
   * then replayed one operation per transaction so the others still land.
   */
  private serialized<T>(run: () => Promise<T>, group = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, group, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        this.drained = this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let callers of the same tick join the batch.
        await new Promise((r) => setImmediate(r));
        const batch = this.queue.splice(0, MAX_BATCH);
        if (batch.length === 1) await this.runAlone(batch[0]);
        else await this.runBatch(batch);
      }
    } finally {
      // Same synchronous step as the empty-queue check: an operation queued after this starts a new drain.
      this.draining = false;
    }
  }

  private async runAlone(op: QueuedOp): Promise<void> {
    try {
      op.resolve(op.group ? await this.inTransaction(op.run) : await op.run());
    } catch (err) {
      op.reject(err);
    }
  }

  private async runBatch(batch: QueuedOp[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    let groupFailed = false;
    try {
      await this.inTransaction(async () => {
        for (const op of batch) {
          try {
            outcomes.push({ ok: true, value: await op.run() });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
            if (op.group) groupFailed = true;
          }
        }
        if (groupFailed) throw new Error('a transaction in the batch failed');
      });
    } catch {
      for (const op of batch) await this.runAlone(op);
      return;
    }
    batch.forEach((op, i) => (outcomes[i].ok ? op.resolve(outcomes[i].value) : op.reject(outcomes[i].value)));
  }

  /** SQLite only (the queue exists only there). */
  private async inTransaction<T>(body: () => Promise<T>): Promise<T> {
    const stmt = (sql: string) => this.prepared!.run(sql, []);
    await stmt('BEGIN IMMEDIATE');
    try {
      const result = await body();
      await stmt('COMMIT');
      return result;
    } catch (err) {
      await stmt('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** `?` placeholders in, the engine's placeholders out ($1, $2, ... on PostgreSQL). */
  sql(text: string): string {
    if (this.kind === 'sqlite' || !text.includes('?')) return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }

  async close(): Promise<void> {
    await this.drained;
    await this.prepared?.finalizeAll();
    await this.runner?.release().catch(() => undefined);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * TypeORM calls `sqlite3.verbose()`, which wraps every database call to capture a stack trace:
 * that alone was the largest cost of a cache hit. This driver's verbose() returns it unchanged.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, { verbose: () => sqlite3 });

/** `sqlite:////abs/file.db`, `sqlite:///rel/file.db` (relative to AIRFLOW_HOME), a bare path, or `postgresql://...`. */
export function parseConn(conn: string, airflowHome: string): { kind: DbKind; target: string } {
  if (/^postgres(ql)?(\+\w+)?:\/\//.test(conn)) {
    return { kind: 'postgres', target: conn.replace(/^postgres(ql)?(\+\w+)?:/, 'postgresql:') };
  }
  if (conn.startsWith('sqlite://')) {
    const path = conn.slice('sqlite:///'.length);
    if (!conn.startsWith('sqlite:///') || !path) {
      throw new ConfigError(
        'database',
        'sql_alchemy_conn',
        `'${conn}' is not a SQLite URL: write sqlite:////absolute/path.db`,
      );
    }
    return { kind: 'sqlite', target: isAbsolute(path) ? path : resolve(airflowHome, path) };
  }
  if (/^[a-z][\w+.-]*:\/\//i.test(conn)) {
    throw new ConfigError(
      'database',
      'sql_alchemy_conn',
      `unsupported database URL '${conn.split(':')[0]}://...': use sqlite:///... or postgresql://...`,
    );
  }
  return { kind: 'sqlite', target: isAbsolute(conn) ? conn : resolve(airflowHome, conn) };
}

/** Opens the metadata DB and applies pending migrations (first use creates the schema). */
export async function openMetadataDb(
  conn: string,
  airflowHome: string,
  opts: { migrate?: boolean; /** SQLite busy_timeout, ms (tests shorten it) */ busyTimeoutMs?: number } = {},
): Promise<MetadataDb> {
  const { kind, target } = parseConn(conn, airflowHome);
  const common = { entities, migrations, synchronize: false, migrationsRun: false, logging: false } as const;
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
