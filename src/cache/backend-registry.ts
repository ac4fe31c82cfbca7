import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { MetadataDbCacheBackend } from './backends/metadata-db.js';
import { hitWindowMs } from './backends/metadata-db-hits.js';
import { GuardedBackend, describeThrown, hasFunction, type GuardOptions } from './guarded-backend.js';
import type { CacheBackendOptions } from './types.js';

const METHODS = ['get', 'set', 'recordHit', 'delete', 'clear', 'list', 'stats', 'close'] as const;
const SPELLINGS =
  "write 'metadata_db' (the default), 'redis', or 'path/to/module.js:ExportName' (relative to AIRFLOW_HOME or absolute)";

function configError(detail: string): ConfigError {
  return new ConfigError('core', 'task_cache_backend', detail);
}

const message = describeThrown;

/** Defaults for callers that do not pass the settings (tests, tools). */
const DEFAULT_GUARD: GuardOptions = { timeoutMs: 500, maxValueBytes: 4 * 1024 * 1024 };
/** Loading a module gets longer than one call (a cold import), but is bounded too: a top-level await may never settle. */
const MIN_LOAD_TIMEOUT_MS = 10_000;

/**
 * Builds the backend named by `[core] task_cache_backend`, wrapped in the guard (see guarded-backend.ts).
 * A wrong setting (spelling, file, export, not a class, missing methods, an import that fails) is a
 * ConfigError naming the setting and a fix; what the backend's own code does once constructed
 * (its constructor throwing included) makes every call fail, so tasks bypass the cache.
 */
export async function createCacheBackend(
  spec: string,
  options: CacheBackendOptions,
  guard: GuardOptions = DEFAULT_GUARD,
): Promise<GuardedBackend> {
  const name = spec.trim() || 'metadata_db';
  const trusted = { ...guard, trusted: true };
  if (name === 'metadata_db') {
    try {
      const backend = new MetadataDbCacheBackend(options, { hitWindowMs: hitWindowMs(guard.timeoutMs) });
      return GuardedBackend.wrap(backend, name, trusted);
    } catch (err) {
      throw configError(`cannot start the metadata_db backend: ${message(err)}`);
    }
  }
  if (name === 'redis') return loadRedis(options, trusted);
  const match = /^(.+\.[cm]?js):([A-Za-z_$][\w$]*)$/.exec(name);
  if (!match) throw configError(`unknown backend '${name}': ${SPELLINGS}`);
  return loadModuleBackend(match[1], match[2], name, options, guard);
}

async function loadRedis(options: CacheBackendOptions, guard: GuardOptions): Promise<GuardedBackend> {
  let mod: Record<string, unknown>;
  try {
    mod = await import('./backends/redis.js');
  } catch (err) {
    throw configError(`the redis backend is not available (${message(err)}): write 'metadata_db' instead`);
  }
  const Backend = mod.RedisCacheBackend ?? mod.default;
  return construct(Backend, 'redis', options, guard);
}

async function loadModuleBackend(
  path: string,
  exportName: string,
  spec: string,
  options: CacheBackendOptions,
  guard: GuardOptions,
): Promise<GuardedBackend> {
  const file = isAbsolute(path) ? path : resolve(options.airflowHome, path);
  if (!existsSync(file)) {
    throw configError(
      `module file ${file} (from '${spec}') does not exist: give a path relative to AIRFLOW_HOME (${options.airflowHome}) or an absolute path`,
    );
  }
  let mod: Record<string, unknown> | 'timeout';
  const loadMs = Math.max(MIN_LOAD_TIMEOUT_MS, guard.timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    const { importFile } = await import('../util/import-file.js');
    mod = await Promise.race([
      importFile(pathToFileURL(file).href),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), loadMs))),
    ]);
  } catch (err) {
    throw configError(`cannot import ${file}: ${message(err)}`);
  } finally {
    clearTimeout(timer);
  }
  if (mod === 'timeout')
    return GuardedBackend.unusable(spec, `importing ${file} did not finish within ${loadMs} ms`, guard);
  // A module namespace is a plain, frozen object: reading it runs none of the backend's code.
  if (!(exportName in mod)) {
    const names = Object.keys(mod).join(', ') || 'none';
    throw configError(`${file} has no export '${exportName}' (its exports: ${names}): write '${path}:<one of them>'`);
  }
  return construct(mod[exportName], spec, options, guard);
}

/** `new Backend(options)`, checked to have every CacheBackend method, wrapped in the guard. */
function construct(Backend: unknown, spec: string, options: CacheBackendOptions, guard: GuardOptions): GuardedBackend {
  if (typeof Backend !== 'function') {
    throw configError(
      `'${spec}' is not a class (got ${typeof Backend}): export a class that miniflow constructs with new X(options)`,
    );
  }
  let backend: unknown;
  try {
    backend = Reflect.construct(Backend, [options]);
  } catch (err) {
    // The backend's own code failed: the run goes on without the cache rather than stopping.
    return GuardedBackend.unusable(spec, `constructing '${spec}' failed: ${message(err)}`, guard);
  }
  if ((typeof backend !== 'object' && typeof backend !== 'function') || backend === null) {
    return GuardedBackend.unusable(spec, `constructing '${spec}' gave ${typeof backend}, not an object`, guard);
  }
  const raw = backend;
  const missing = METHODS.filter((m) => !hasFunction(raw, m));
  if (missing.length) {
    throw configError(
      `'${spec}' does not implement the cache backend interface: missing method(s) ${missing.join(', ')}`,
    );
  }
  return GuardedBackend.wrap(raw, spec, guard);
}
