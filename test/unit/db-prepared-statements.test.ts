/**
 * MetadataDb on SQLite keeps prepared statements. What that must not break, on a real file: a
 * statement reused after it failed, texts prepared twice at once, more texts than are kept, a
 * clean close, and waiting out another connection's write lock past busy_timeout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { makeEntry } from '../contract/cache-backend-contract.js';

async function freshDb(opts: { busyTimeoutMs?: number } = {}): Promise<{ db: MetadataDb; file: string }> {
  const home = mkdtempSync(join(tmpdir(), 'mf-prepared-'));
  const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home, opts);
  await db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  return { db, file: join(home, 'airflow.db') };
}

test('a statement that failed is reused, and works, on its next call', async () => {
  const { db } = await freshDb();
  const insert = 'INSERT INTO t (k, v) VALUES (?, ?)';
  await db.exec(insert, ['a', 1]);
  await expect(db.exec(insert, ['a', 2])).rejects.toThrow(/UNIQUE constraint failed/);
  expect(await db.exec(insert, ['b', 2])).toEqual({ affected: 1, rows: [] });
  expect(await db.query('SELECT k, v FROM t ORDER BY k')).toEqual([
    { k: 'a', v: 1 },
    { k: 'b', v: 2 },
  ]);
  await db.close();
});

test('the same new text used twice at once is prepared once, and the DB still closes', async () => {
  const { db } = await freshDb();
  const rows = await db.transaction((t) =>
    Promise.all([t.query('SELECT COUNT(*) AS n FROM t'), t.query('SELECT COUNT(*) AS n FROM t')]),
  );
  expect(rows).toEqual([[{ n: 0 }], [{ n: 0 }]]);
  await expect(db.close()).resolves.toBeUndefined();
});

test('more texts than are kept: the oldest are dropped, prepared again when used, and the DB closes', async () => {
  const { db } = await freshDb();
  for (let i = 0; i < 300; i++) expect(await db.query(`SELECT ${i} AS n`)).toEqual([{ n: i }]);
  expect(await db.query('SELECT 0 AS n')).toEqual([{ n: 0 }]);
  await expect(db.close()).resolves.toBeUndefined();
});

test("a write waits out another connection's lock even past busy_timeout, instead of failing", async () => {
  const { db, file } = await freshDb({ busyTimeoutMs: 20 });
  const other = new sqlite3.Database(file);
  const run = (sql: string) =>
    new Promise<void>((resolve, reject) => other.run(sql, (err) => (err ? reject(err) : resolve())));
  await run('BEGIN IMMEDIATE');
  const started = Date.now();
  const write = db.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['late', 1]);
  await new Promise((r) => setTimeout(r, 300)); // far past the 20 ms busy_timeout
  await run('COMMIT');
  expect(await write).toEqual({ affected: 1, rows: [] });
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  await new Promise<void>((r) => other.close(() => r()));
  await db.close();
});

test('hit counts still being written when the backend closes are not lost', async () => {
  const { db } = await freshDb();
  const backend = new MetadataDbCacheBackend({ dataSource: db });
  const base = new Date('2026-01-01T00:00:00Z');
  const entries = Array.from({ length: 120 }, (_, i) => makeEntry(base, { arg: i }));
  for (const e of entries) await backend.set(e);
  // Not awaited: the counts gather for a window, then go out in many small UPDATEs.
  for (const e of entries) void backend.recordHit(e.key, base);
  await new Promise((r) => setTimeout(r, 55)); // the window has closed; the UPDATEs are under way
  await backend.close();
  const rows = await db.query<{ hits: number }[]>('SELECT hits FROM task_cache_hit');
  expect(rows).toHaveLength(120);
  expect(rows.every((r) => Number(r.hits) === 1)).toBe(true);
  await db.close();
});

test('a SELECT queued with writes is answered before its batch commits; the writes only once it has', async () => {
  const { db } = await freshDb();
  const events: string[] = [];
  // Queued in one turn: one batch (BEGIN, insert, select, insert, COMMIT). Writes are answered in
  // order once the batch has committed; the select as soon as it ran, so before the insert queued ahead of it.
  const ops = [
    db.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]).then(() => events.push('insert a')),
    db.query('SELECT k FROM t').then((rows) => events.push(`select ${JSON.stringify(rows)}`)),
    db.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 2]).then(() => events.push('insert b')),
  ];
  await Promise.all(ops);
  expect(events).toEqual(['select [{"k":"a"}]', 'insert a', 'insert b']);
  // A plain write inside a failed transaction body is still replayed: the batch keeps its guarantees.
  await expect(
    db.transaction(async (tx) => {
      await tx.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['c', 3]);
      throw new Error('body failed');
    }),
  ).rejects.toThrow('body failed');
  expect(await db.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  await db.close();
});

test('a snapshot read (a cache lookup) is answered while the write queue is held, from committed data only', async () => {
  const { db } = await freshDb();
  await db.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // A transaction that holds the one write connection (and its queue) until released.
  const tx = db.transaction(async (r) => {
    await r.exec('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 2]);
    await held;
  });
  const queued = db.query<{ k: string }[]>('SELECT k FROM t ORDER BY k');
  // Behind the held queue a plain query cannot answer; the snapshot read does, on its own connection.
  expect(await db.snapshotQuery('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }]);
  release();
  await tx;
  expect(await queued).toEqual([{ k: 'a' }, { k: 'b' }]);
  expect(await db.snapshotQuery('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  // The second connection only reads.
  await expect(db.snapshotQuery("INSERT INTO t (k, v) VALUES ('c', 3)")).rejects.toThrow(/readonly/);
  await db.close();
  // A read after close fails; it does not open a connection that nothing would close.
  await expect(db.snapshotQuery('SELECT k FROM t')).rejects.toThrow();
});
