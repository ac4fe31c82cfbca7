import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCacheBackend } from '../../src/cache/backend-registry.js';
import { GuardedBackend } from '../../src/cache/guarded-backend.js';
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
      // Every backend, built-in or not, is handed out wrapped in the guard.
      expect(backend).toBeInstanceOf(GuardedBackend);
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
  const entry = {
    key: 'k',
    teamName: null,
    dagId: 'd',
    taskId: 't',
    value: { n: 1 },
    components: [{ name: 'dag_id', hash: 'h', value: 'd' }],
    createdAt: new Date(0),
    expiresAt: null,
    sizeBytes: 7,
    hits: 0,
    lastHitAt: null,
    sourceRunId: 'r',
    sourceTryNumber: 1,
    durationSeconds: 1,
  };
  await backend.set(entry);
  expect(await backend.get('k')).toEqual(entry);
  // The guard hands out copies: nothing of the backend's own objects travels further.
  expect(await backend.get('k')).not.toBe(await backend.get('k'));
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
  expect((await failure('plugins/throws-on-import.js:X')).message).toMatch(
    /cannot import .*throws-on-import\.js: optional dependency "memjs" is not installed/,
  );
});

test('a constructor that throws gives a backend whose every call fails with that cause (tasks bypass)', async () => {
  const backend = await createCacheBackend('plugins/memory-backend.js:ExplodingBackend', opts);
  await expect(backend.get('k')).rejects.toThrow(
    /^cache backend 'plugins\/memory-backend\.js:ExplodingBackend' is unusable: constructing .* failed: no connection string given$/,
  );
});
