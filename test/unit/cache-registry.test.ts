import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCacheBackend } from '../../src/cache/backend-registry.js';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { openMetadataDb } from '../../src/db/data-source.js';
import { ConfigError } from '../../src/errors.js';

const home = resolve('test/fixtures/cache/home');
const opts = { airflowHome: home };

async function failure(spec: string): Promise<ConfigError> {
  const err = await createCacheBackend(spec, opts).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).message).toMatch(/^config \[core\] task_cache_backend: /);
  return err as ConfigError;
}

test('metadata_db is the default backend', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mf-cache-reg-'));
  const db = await openMetadataDb(`sqlite:///${tmp}/airflow.db`, tmp);
  try {
    for (const spec of ['metadata_db', '', '  ']) {
      const backend = await createCacheBackend(spec, { airflowHome: tmp, dataSource: db });
      expect(backend).toBeInstanceOf(MetadataDbCacheBackend);
      expect(backend.name).toBe('metadata_db');
    }
  } finally {
    await db.close();
  }
  expect((await failure('metadata_db')).message).toMatch(/metadata DB/);
});

test('a module backend loads from a path relative to AIRFLOW_HOME or absolute, constructed with the options', async () => {
  const backend = await createCacheBackend('plugins/memory-backend.js:MemoryBackend', opts);
  expect(backend.name).toBe('memory');
  expect((backend as unknown as { options: unknown }).options).toBe(opts);
  await backend.set({ key: 'k' } as never);
  expect(await backend.get('k')).toEqual({ key: 'k' });
  const absolute = await createCacheBackend(`${home}/plugins/memory-backend.js:MemoryBackend`, {
    airflowHome: '/nonexistent',
  });
  expect(absolute.name).toBe('memory');
});

test('a module backend without a name is named after the setting', async () => {
  const backend = await createCacheBackend('plugins/memory-backend.js:NamelessBackend', opts);
  expect(backend.name).toBe('plugins/memory-backend.js:NamelessBackend');
});

test('bad specs say what is wrong and what to write', async () => {
  expect((await failure('memcached')).message).toMatch(
    /unknown backend 'memcached'.*metadata_db.*path\/to\/module\.js:ExportName/,
  );
  expect((await failure('plugins/memory-backend.js')).message).toMatch(/unknown backend/);
  expect((await failure('plugins/missing.js:X')).message).toMatch(
    new RegExp(`${home}/plugins/missing\\.js .*does not exist.*relative to AIRFLOW_HOME`),
  );
  expect((await failure('plugins/memory-backend.js:Nope')).message).toMatch(
    /has no export 'Nope' \(its exports: .*MemoryBackend.*\)/,
  );
  expect((await failure('plugins/memory-backend.js:notAClass')).message).toMatch(/is not a class/);
  expect((await failure('plugins/memory-backend.js:IncompleteBackend')).message).toMatch(
    /missing method\(s\) recordHit, delete, clear, list, stats, close/,
  );
  expect((await failure('plugins/memory-backend.js:ExplodingBackend')).message).toMatch(
    /constructing .* failed: no connection string given/,
  );
  expect((await failure('plugins/throws-on-import.js:X')).message).toMatch(
    /cannot import .*throws-on-import\.js: optional dependency "memjs" is not installed/,
  );
});
