import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { MetadataDbCacheBackend } from './backends/metadata-db.js';
import type { CacheBackend, CacheBackendOptions } from './types.js';

const METHODS = ['get', 'set', 'recordHit', 'delete', 'clear', 'list', 'stats', 'close'] as const;
const SPELLINGS =
  "write 'metadata_db' (the default), 'redis', or 'path/to/module.js:ExportName' (relative to AIRFLOW_HOME or absolute)";
/** A variable, not a literal, so the type checker does not require the optional module to exist. */
const REDIS_MODULE = './backends/redis.js';

function configError(detail: string): ConfigError {
  return new ConfigError('core', 'task_cache_backend', detail);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Builds the backend named by `[core] task_cache_backend`; every failure names the setting and a fix. */
export async function createCacheBackend(spec: string, options: CacheBackendOptions): Promise<CacheBackend> {
  const name = spec.trim() || 'metadata_db';
  if (name === 'metadata_db') {
    try {
      return new MetadataDbCacheBackend(options);
    } catch (err) {
      throw configError(`cannot start the metadata_db backend: ${message(err)}`);
    }
  }
  if (name === 'redis') return loadRedis(options);
  const match = /^(.+\.[cm]?js):([A-Za-z_$][\w$]*)$/.exec(name);
  if (!match) throw configError(`unknown backend '${name}': ${SPELLINGS}`);
  return loadModuleBackend(match[1], match[2], name, options);
}

async function loadRedis(options: CacheBackendOptions): Promise<CacheBackend> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(REDIS_MODULE)) as Record<string, unknown>;
  } catch (err) {
    throw configError(`the redis backend is not available (${message(err)}): write 'metadata_db' instead`);
  }
  const Backend = mod.RedisCacheBackend ?? mod.default;
  return construct(Backend, 'redis', options);
}

async function loadModuleBackend(
  path: string,
  exportName: string,
  spec: string,
  options: CacheBackendOptions,
): Promise<CacheBackend> {
  const file = isAbsolute(path) ? path : resolve(options.airflowHome, path);
  if (!existsSync(file)) {
    throw configError(
      `module file ${file} (from '${spec}') does not exist: give a path relative to AIRFLOW_HOME (${options.airflowHome}) or an absolute path`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw configError(`cannot import ${file}: ${message(err)}`);
  }
  if (!(exportName in mod)) {
    const names = Object.keys(mod).join(', ') || 'none';
    throw configError(`${file} has no export '${exportName}' (its exports: ${names}): write '${path}:<one of them>'`);
  }
  return construct(mod[exportName], spec, options);
}

/** `new Backend(options)`, checked to implement every CacheBackend method. */
function construct(Backend: unknown, spec: string, options: CacheBackendOptions): CacheBackend {
  if (typeof Backend !== 'function') {
    throw configError(
      `'${spec}' is not a class (got ${typeof Backend}): export a class that miniflow constructs with new X(options)`,
    );
  }
  let backend: Record<string, unknown>;
  try {
    backend = new (Backend as new (o: CacheBackendOptions) => Record<string, unknown>)(options);
  } catch (err) {
    throw configError(`constructing '${spec}' failed: ${message(err)}`);
  }
  const missing = METHODS.filter((m) => typeof backend[m] !== 'function');
  if (missing.length) {
    throw configError(
      `'${spec}' does not implement the cache backend interface: missing method(s) ${missing.join(', ')}`,
    );
  }
  if (typeof backend.name !== 'string' || !backend.name) {
    // Warnings and decisions name the backend; fall back to the setting's own spelling.
    Object.defineProperty(backend, 'name', { value: spec, enumerable: true });
  }
  return backend as unknown as CacheBackend;
}
