import canonicalize from 'canonicalize';
import { sha256Hex, type ModuleHasher, type SourceClosure } from './source-hash.js';

// A task's source hash: loaded with the DAG loader (the task builder), never by a listing.

/**
 * The fields that define what a task does. Inputs (op_args, op_kwargs, env, cwd, filepath) are left
 * out: they are hashed after rendering, so an excluded input can change without a cache miss.
 * Cosmetic and scheduling fields (doc_md, owner, retries, pool, ...) are left out for the same reason.
 */
export interface TaskSource {
  taskType: string;
  /** The raw, unrendered template. */
  bashCommand?: string;
  pythonCallable?: string;
  callable?: string;
  /** Absolute path of the callable's module; its content is part of the hash. */
  callableFile?: string;
}

/** Bumped when the hashed fields change, so old entries stop matching instead of colliding. */
const SOURCE_HASH_SCHEMA = 1;

/** The source hash; `closure` adds the modules the callable's module imports (when it imports any). */
export function computeSourceHash(source: TaskSource, modules: ModuleHasher, closure?: SourceClosure): string {
  // Within one load the same fields and module give the same hash: 10,000 tasks calling one function hash once.
  // One template string, not arrays joined: the key is built for every task.
  const u = '\u0001';
  const memoKey = `${source.taskType}\0${source.bashCommand ?? u}\0${source.pythonCallable ?? u}\0${source.callable ?? u}\0${source.callableFile ?? u}\0${closure ? 'c' : ''}`;
  const known = modules.sourceHashes.get(memoKey);
  if (known !== undefined) return known;
  const hash = sourceHashOf(source, modules, closure);
  modules.sourceHashes.set(memoKey, hash);
  return hash;
}

function sourceHashOf(source: TaskSource, modules: ModuleHasher, closure?: SourceClosure): string {
  const imported = closure && Object.keys(closure.files).length > 1 ? sortedObject(closure.files) : undefined;
  const canonical = canonicalize({
    schema: SOURCE_HASH_SCHEMA,
    task_type: source.taskType,
    bash_command: source.bashCommand ?? null,
    python_callable: source.pythonCallable ?? null,
    callable: source.callable ?? null,
    callable_module_sha256: source.callableFile ? modules.hash(source.callableFile) : null,
    // Only present when there are imports, so a self-contained module keeps the hash it had.
    ...(imported ? { imported_modules_sha256: imported } : {}),
  });
  if (canonical === undefined) throw new Error('canonicalize returned undefined for a task source');
  return sha256Hex(canonical);
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
