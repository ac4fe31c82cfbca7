import { readFileSync, realpathSync, statSync } from 'node:fs';

/** What a later look at a file compares: a change in either means the file may have changed. */
export interface Fingerprint {
  size: number;
  mtimeMs: number;
}

/**
 * Every file a DAG's load looked at besides the DAG file itself (callable modules, their imports,
 * paths probed and found missing), with its fingerprint then, or null when it was absent. A loaded
 * DAG stays valid, source hashes included, as long as every entry still fingerprints the same.
 */
export type FileDeps = Record<string, Fingerprint | null>;

/** A regular file's fingerprint, or null when the path is missing or not a regular file. */
export function fingerprint(path: string): Fingerprint | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

export function sameFingerprint(a: Fingerprint | null | undefined, b: Fingerprint | null | undefined): boolean {
  return (a ?? null) === null ? (b ?? null) === null : !!b && a!.size === b.size && a!.mtimeMs === b.mtimeMs;
}

/** Whether any file in `deps` fingerprints differently now (edited, created, removed). */
export function depsChanged(deps: FileDeps): boolean {
  return Object.entries(deps).some(([path, then]) => !sameFingerprint(then, fingerprint(path)));
}

/**
 * The file-system reads of one DagBag load, memoized (many tasks share one module) and recorded per
 * DAG file (`track`), so a registry can tell later whether a loaded DAG is still what its files say.
 * The fingerprint is taken before a read: an edit racing the read shows up as a change next time.
 */
export class FsProbe {
  private readonly stats = new Map<string, Fingerprint | null>();
  private readonly texts = new Map<string, Buffer>();
  private readonly realpaths = new Map<string, string>();
  private deps: FileDeps | null = null;
  /** `bundle\0ref` -> the callable module it resolved to (see resolveCallableRef). */
  readonly resolvedRefs = new Map<string, { file: string; name: string }>();

  /** Runs `fn`, returning what it returned (or threw) and every file it looked at. */
  track<T>(fn: () => T): { deps: FileDeps } & ({ value: T } | { error: unknown }) {
    const outer = this.deps;
    const deps: FileDeps = (this.deps = {});
    try {
      return { value: fn(), deps };
    } catch (error) {
      return { error, deps };
    } finally {
      this.deps = outer;
      if (outer) Object.assign(outer, deps);
    }
  }

  /** Records `deps` (a memoized result's files) as looked at by the current track. */
  note(deps: FileDeps): void {
    if (this.deps) Object.assign(this.deps, deps);
  }

  /** The file's fingerprint, null when missing or not a regular file. */
  stat(path: string): Fingerprint | null {
    let got = this.stats.get(path);
    if (got === undefined) {
      got = fingerprint(path);
      this.stats.set(path, got);
    }
    if (this.deps) this.deps[path] = got;
    return got;
  }

  isFile(path: string): boolean {
    return this.stat(path) !== null;
  }

  read(path: string): Buffer {
    let bytes = this.texts.get(path);
    if (bytes === undefined) {
      this.stat(path);
      bytes = readFileSync(path);
      this.texts.set(path, bytes);
    } else if (this.deps) this.deps[path] = this.stats.get(path) ?? null;
    return bytes;
  }

  /** realpathSync, memoized per load (a symlink is re-resolved by the next load). */
  realpath(path: string): string {
    let got = this.realpaths.get(path);
    if (got === undefined) {
      got = realpathSync(path);
      this.realpaths.set(path, got);
    }
    return got;
  }
}
