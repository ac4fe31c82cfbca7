import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrations } from '../../migrations/index.js';
import { parseConn } from '../../src/db/connection-url.js';
import { openMetadataDb } from '../../src/db/data-source.js';
import { ConfigError } from '../../src/errors.js';
import { sqliteHitTriggerSql } from '../../migrations/sql/try-guard.js';

test('migrations create every table on a fresh SQLite file and are idempotent', async () => {
  const home = mkdtempSync(join(tmpdir(), 'mf-db-'));
  const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
  const tables = (await db.query<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type='table'")).map(
    (r) => r.name,
  );
  expect(tables).toEqual(
    expect.arrayContaining([
      'dag',
      'dag_run',
      'task_instance',
      'xcom',
      'import_error',
      'task_cache_entry',
      'cache_event',
      'file_hash_memo',
      'dag_file',
      'task_cache_hit',
    ]),
  );
  // Migration 11 (issue 13): recorded outputs and the accept record on entries, evicted bytes on events.
  const entryColumns = (await db.query<{ name: string }[]>('PRAGMA table_info(task_cache_entry)')).map((c) => c.name);
  expect(entryColumns).toEqual(expect.arrayContaining(['outputs', 'accepted']));
  // Migration 13 (issue 15): hit counts in their own narrow table, not on the entry's row.
  expect(entryColumns).not.toContain('hits');
  expect(entryColumns).not.toContain('last_hit_at');
  const eventColumns = (await db.query<{ name: string }[]>('PRAGMA table_info(cache_event)')).map((c) => c.name);
  expect(eventColumns).toContain('size_bytes');
  // Migration 14 (issue 15): a hit's event row touches no index on its random key, and the reads
  // by key (evictions) and by run and try use the indexes made for them.
  const eventIndexes = await db.query<{ name: string; sql: string }[]>(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cache_event' AND sql IS NOT NULL ORDER BY name",
  );
  expect(eventIndexes.map((i) => i.name)).toEqual([
    'idx_cache_event_created',
    'idx_cache_event_evicted_key',
    'idx_cache_event_run',
  ]);
  expect(eventIndexes[1].sql).toMatch(/WHERE decision = 'evict'/);
  const plan = async (sql: string) =>
    (await db.query<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`)).map((r) => r.detail).join('; ');
  expect(
    await plan("SELECT reason, created_at FROM cache_event WHERE cache_key IN ('a', 'b') AND decision = 'evict'"),
  ).toMatch(/USING INDEX idx_cache_event_evicted_key/);
  expect(
    await plan(
      "SELECT latency_ms FROM cache_event WHERE dag_id = 'd' AND run_id = 'r' AND task_id = 't' AND try_number = 1 AND decision = 'hit'",
    ),
  ).toMatch(/USING INDEX idx_cache_event_run/);
  // SQLite's one-statement cache-hit write (migration 4).
  const hitWrite = await db.query<{ type: string; name: string }[]>(
    "SELECT type, name FROM sqlite_master WHERE name LIKE 'cache_hit_write%' ORDER BY type",
  );
  expect(hitWrite).toEqual([
    { type: 'trigger', name: 'cache_hit_write_insert' },
    { type: 'view', name: 'cache_hit_write' },
  ]);
  // Its trigger is built from the one definition of the runnable guard (migration 5).
  const [trigger] = await db.query<{ sql: string }[]>(
    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'cache_hit_write_insert'",
  );
  expect(trigger.sql).toBe(sqliteHitTriggerSql());
  // dag.is_paused, 0/1 defaulting to 0 (migration 8, written by the API's PATCH /dags/{dag_id}).
  const paused = (await db.query<{ name: string; dflt_value: string }[]>('PRAGMA table_info(dag)')).find(
    (c) => c.name === 'is_paused',
  );
  expect(paused?.dflt_value).toBe('0');
  await db.close();
  const again = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
  const ran = await again.query<unknown[]>('SELECT * FROM migrations');
  expect(ran).toHaveLength(migrations.length);
  expect(migrations.length).toBe(13);
  await again.close();
});

test('connection strings', () => {
  expect(parseConn('sqlite:////tmp/x.db', '/h')).toEqual({ kind: 'sqlite', target: '/tmp/x.db' });
  expect(parseConn('sqlite:///x.db', '/h')).toEqual({ kind: 'sqlite', target: '/h/x.db' });
  expect(parseConn('postgresql+psycopg2://u@h/db', '/h')).toEqual({ kind: 'postgres', target: 'postgresql://u@h/db' });
  expect(() => parseConn('mysql://x', '/h')).toThrow(ConfigError);
  expect(() => parseConn('mysql://x', '/h')).toThrow(/\[database\] sql_alchemy_conn/);
});
