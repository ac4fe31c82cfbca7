import { migrations } from '../../migrations/index.js';
import { openMetadataDb } from '../../src/db/data-source.js';
import { openPostgresSource } from '../../src/db/typeorm-source.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema } from '../contract/servers.js';

const TABLES = [
  'cache_event',
  'dag',
  'dag_run',
  'import_error',
  'migrations',
  'task_cache_entry',
  'task_cache_hit',
  'task_instance',
  'xcom',
];

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'migrations on PostgreSQL', () => {
  let schema: PgSchema;
  beforeEach(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_migrate');
  });
  afterEach(() => schema.drop());

  const tablesIn = async (db: Awaited<ReturnType<typeof openMetadataDb>>) =>
    (
      await db.query<{ table_name: string }[]>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
        [schema.name],
      )
    ).map((r) => r.table_name);

  test('create every table in the chosen schema, with epoch-ms times as DOUBLE PRECISION, and are idempotent', async () => {
    const db = await openMetadataDb(schema.url, '/unused');
    expect(db.kind).toBe('postgres');
    expect(await tablesIn(db)).toEqual(expect.arrayContaining(TABLES));
    const cols = await db.query<{ column_name: string; data_type: string }[]>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = 'task_cache_entry'",
      [schema.name],
    );
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
    expect(types).toMatchObject({
      created_at: 'double precision',
      expires_at: 'double precision',
      duration: 'double precision',
      size_bytes: 'integer',
    });
    // Migration 14: a hit's event row touches no index on its random key (only evictions are read by key).
    const indexes = await db.query<{ indexname: string; indexdef: string }[]>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ? AND tablename = 'cache_event' AND indexname LIKE 'idx_%' ORDER BY indexname",
      [schema.name],
    );
    expect(indexes.map((i) => i.indexname)).toEqual([
      'idx_cache_event_created',
      'idx_cache_event_evicted_key',
      'idx_cache_event_run',
    ]);
    expect(indexes[1].indexdef).toMatch(/WHERE \(\(decision\)::text = 'evict'::text\)/);
    await db.close();

    const again = await openMetadataDb(schema.url, '/unused');
    expect(await again.query('SELECT name FROM migrations ORDER BY id')).toHaveLength(migrations.length);
    await again.close();
  });

  test('every migration reverts on PostgreSQL and re-applies', async () => {
    const db = await openMetadataDb(schema.url, '/unused');
    const typeorm = await openPostgresSource(schema.url);
    for (let i = 0; i < migrations.length; i++) await typeorm.undoLastMigration({ transaction: 'each' });
    expect(await tablesIn(db)).toEqual(['migrations']);
    await typeorm.runMigrations({ transaction: 'each' });
    expect(await tablesIn(db)).toEqual(expect.arrayContaining(TABLES));
    await typeorm.destroy();
    await db.close();
  });

  test('a round trip keeps epoch milliseconds exact and counts come back as numbers via the backend', async () => {
    const db = await openMetadataDb(schema.url, '/unused');
    const ms = Date.UTC(2026, 0, 1, 12, 34, 56, 789);
    await db.exec(
      "INSERT INTO dag_run (dag_id, run_id, logical_date, run_type, state, conf, queued_at) VALUES (?, ?, ?, 'manual', 'queued', '{}', ?)",
      ['d', 'r', ms, ms + 0.5],
    );
    const [row] = await db.query<{ id: number; logical_date: number; queued_at: number }[]>(
      'SELECT id, logical_date, queued_at FROM dag_run',
    );
    expect(row).toEqual({ id: 1, logical_date: ms, queued_at: ms + 0.5 });
    await db.close();
  });

  test('two metadata DBs in different schemas do not see each other', async () => {
    const other = await createPgSchema(POSTGRES_URL!, 'mf_migrate');
    try {
      const a = await openMetadataDb(schema.url, '/unused');
      const b = await openMetadataDb(other.url, '/unused');
      await a.exec(
        "INSERT INTO import_error (filename, bundle_name, stacktrace, timestamp) VALUES ('x', 'dags-folder', 'boom', 1)",
      );
      expect(await a.query('SELECT filename FROM import_error')).toEqual([{ filename: 'x' }]);
      expect(await b.query('SELECT filename FROM import_error')).toEqual([]);
      await a.close();
      await b.close();
    } finally {
      await other.drop();
    }
  });
});
