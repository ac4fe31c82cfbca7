import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { runCacheBackendContract } from './cache-backend-contract.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema } from './servers.js';

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'metadata_db backend on PostgreSQL', () => {
  // One schema (migrated once) for the file; each test starts from an emptied table.
  let schema: PgSchema;
  let db: MetadataDb;

  beforeAll(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_contract');
    db = await openMetadataDb(schema.url, '/nonexistent-airflow-home');
  });
  afterAll(async () => {
    await db?.close();
    await schema?.drop();
  });

  runCacheBackendContract(
    'metadata_db on PostgreSQL',
    async () => {
      await db.query('DELETE FROM task_cache_entry');
      return new MetadataDbCacheBackend({ dataSource: db });
    },
    async (backend) => {
      await backend.clear({});
      await backend.close();
    },
  );
});
