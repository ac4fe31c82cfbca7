import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { runCacheBackendContract } from './cache-backend-contract.js';

// One fresh SQLite file per test: the suite expects an empty backend each time.
const open = new Map<object, { db: MetadataDb; home: string }>();

runCacheBackendContract(
  'metadata_db on SQLite',
  async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-contract-sqlite-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    const backend = new MetadataDbCacheBackend({ dataSource: db });
    open.set(backend, { db, home });
    return backend;
  },
  async (backend) => {
    const { db, home } = open.get(backend)!;
    open.delete(backend);
    await backend.close();
    await db.close();
    rmSync(home, { recursive: true, force: true });
  },
);
