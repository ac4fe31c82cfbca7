import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';

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

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * sha256 of module files, read once per file per DagBag load: many tasks share one module, and a
 * fresh hasher per load picks up edits. A serialized task alone cannot see a function body edit.
 */
export class ModuleHasher {
  private readonly memo = new Map<string, string>();

  hash(absolutePath: string): string {
    let digest = this.memo.get(absolutePath);
    if (digest === undefined) {
      digest = sha256Hex(readFileSync(absolutePath));
      this.memo.set(absolutePath, digest);
    }
    return digest;
  }
}

export function computeSourceHash(source: TaskSource, modules: ModuleHasher): string {
  const canonical = canonicalize({
    schema: SOURCE_HASH_SCHEMA,
    task_type: source.taskType,
    bash_command: source.bashCommand ?? null,
    python_callable: source.pythonCallable ?? null,
    callable: source.callable ?? null,
    callable_module_sha256: source.callableFile ? modules.hash(source.callableFile) : null,
  });
  if (canonical === undefined) throw new Error('canonicalize returned undefined for a task source');
  return sha256Hex(canonical);
}
