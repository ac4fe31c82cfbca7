import 'reflect-metadata';
import sqlite3 from 'sqlite3';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { BUSY_RETRY_MS } from './prepared-statements.js';

/*
 * Everything that loads TypeORM (a quarter of a second of start-up): imported dynamically, only to
 * run migrations (a fresh or older DB, `db reset`). A command on an up-to-date DB, SQLite or
 * PostgreSQL, never loads this module.
 */

/** No entities: the tables are described by migrations/ alone, and every query is SQL in src/models/. */
const common = { entities: [] as [], migrations, synchronize: false, migrationsRun: false, logging: false } as const;

/**
 * TypeORM calls `sqlite3.verbose()`, which wraps every database call of the process to capture a
 * stack trace (once the largest cost of a cache hit). This driver's verbose() returns it unchanged.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, { verbose: () => sqlite3 });

/** A TypeORM data source on PostgreSQL (to migrate; tests undo migrations through it). */
export async function openPostgresSource(url: string): Promise<DataSource> {
  const dataSource = new DataSource({ type: 'postgres', url, ...common, extra: { max: 10 } });
  await dataSource.initialize();
  return dataSource;
}

/**
 * Applies pending migrations to PostgreSQL on a short-lived TypeORM connection of its own; the
 * MetadataDb's pool (pg-engine.ts) stays open and sees the tables once this returns.
 */
export async function migratePostgres(url: string): Promise<void> {
  const dataSource = await openPostgresSource(url);
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** Applies pending migrations, each in its own transaction. */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  await dataSource.runMigrations({ transaction: 'each' });
}

/**
 * Applies pending migrations to a SQLite file on a short-lived TypeORM connection of its own, with
 * the settings of MetadataDb's connection (WAL, busy timeout); the caller's connection stays open.
 */
export async function migrateSqliteFile(file: string, busyTimeoutMs: number): Promise<void> {
  const dataSource = new DataSource({
    type: 'sqlite',
    database: file,
    driver: quietSqlite3,
    enableWAL: true,
    busyTimeout: busyTimeoutMs,
    busyErrorRetry: BUSY_RETRY_MS,
    ...common,
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
