import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { FsProbe, type FileDeps } from './fs-probe.js';
import { bundleRelative, moduleImports, type ModuleImports } from './module-imports.js';

/**
 * node:crypto, required on the first hash: an ES import of it builds its whole namespace at start-up
 * (Web Crypto, X.509, key generation, ...), where a hash needs only createHash.
 */
let crypto: typeof import('node:crypto') | undefined;

export function sha256Hex(data: string | Buffer): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** The files a callable's code is made of: its module and the local modules it imports, recursively. */
export interface SourceClosure {
  /** Bundle-relative path -> sha256 of the file, the callable's module included. */
  files: Record<string, string>;
  /** Imports seen but not followed (dynamic, outside the bundle, unresolved), as `file: import (why)`. */
  notFollowed: string[];
}

/**
 * sha256 of module files, read once per file per DagBag load: many tasks share one module, and a
 * fresh hasher per load picks up edits. A serialized task alone cannot see a function body edit.
 * Its FsProbe records which files each DAG read, so a registry can tell when to load it again.
 */
export class ModuleHasher {
  private readonly memo = new Map<string, { digest: string; text: string }>();
  private readonly imports = new Map<string, ModuleImports>();
  /** See computeSourceHash. */
  readonly sourceHashes = new Map<string, string>();
  private readonly closures = new Map<string, { closure: SourceClosure; deps: FileDeps }>();

  constructor(readonly fs = new FsProbe()) {}

  private read(absolutePath: string): { digest: string; text: string } {
    const bytes = this.fs.read(absolutePath);
    let got = this.memo.get(absolutePath);
    if (got === undefined) {
      got = { digest: sha256Hex(bytes), text: bytes.toString('utf8') };
      this.memo.set(absolutePath, got);
    }
    return got;
  }

  hash(absolutePath: string): string {
    return this.read(absolutePath).digest;
  }

  /**
   * The module and every local module it imports, each read once; cycles end where a file is seen
   * again. Memoized per load (10,000 tasks often share one module); a memoized answer still records
   * its files as the current DAG's dependencies.
   */
  closure(absolutePath: string, bundlePath: string): SourceClosure {
    const key = `${bundlePath}\0${absolutePath}`;
    const memo = this.closures.get(key);
    if (memo) {
      this.fs.note(memo.deps);
      return memo.closure;
    }
    const walked = this.fs.track(() => this.walk(absolutePath, resolve(bundlePath)));
    if ('error' in walked) throw walked.error;
    this.closures.set(key, { closure: walked.value, deps: walked.deps });
    return walked.value;
  }

  private walk(absolutePath: string, bundle: string): SourceClosure {
    const out: SourceClosure = { files: {}, notFollowed: [] };
    const seen = new Set<string>();
    const todo = [absolutePath];
    for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const { digest, text } = this.read(file);
      out.files[bundleRelative(bundle, file)] = digest;
      let found = this.imports.get(file);
      if (!found) this.imports.set(file, (found = moduleImports(file, text, bundle, (p) => this.fs.isFile(p))));
      else for (const p of found.probed) this.fs.stat(p); // recorded for this walk's deps
      todo.push(...found.files);
      for (const n of found.notFollowed) out.notFollowed.push(`${bundleRelative(bundle, file)}: ${n}`);
    }
    return out;
  }
}
