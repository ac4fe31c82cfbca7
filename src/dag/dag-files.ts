import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DagValidationError, MiniflowError, errorMessage } from '../errors.js';
import { fingerprint, type FileDeps, type Fingerprint } from './fs-probe.js';
import type { Dag, DagBundle, ImportErrorRecord } from './model.js';

// DAG files as files: finding, reading and the import-error record. No parsing here: the loader
// (dagbag.ts, with the operators and the task builder) is imported only by what parses.

/** JSON files a bundle may hold for its callables' sake; they are never DAGs. */
const NOT_DAG_FILES = new Set(['package.json', 'package-lock.json', 'tsconfig.json']);

/** One DAG file loaded for a registry: what it was, what it built (or why not), what else it read. */
export interface TrackedDagFile {
  fileloc: string;
  /** Taken before the read, so an edit racing the read shows up as a change later. */
  stamp: Fingerprint;
  /** Wall-clock ms of the read (see the registry's racy-mtime check). */
  readAtMs: number;
  contentHash: string;
  deps: FileDeps;
  dag: Dag | null;
  error: ImportErrorRecord | null;
}

/** The file's stamp, bytes and read time, or why it cannot be read. */
export function readDagFile(
  fileloc: string,
): { stamp: Fingerprint; bytes: Buffer; readAtMs: number } | { error: string } {
  const readAtMs = Date.now();
  const stamp = fingerprint(fileloc);
  try {
    if (!stamp) throw new Error('not a regular file');
    return { stamp, bytes: readFileSync(fileloc), readAtMs };
  } catch (e) {
    return { error: `cannot read the DAG file: ${errorMessage(e)}` };
  }
}

/** An error of one DAG file as the import_error row lists it. */
export function importError(file: string, bundle: DagBundle, e: unknown): ImportErrorRecord {
  if (e instanceof DagValidationError) {
    return {
      filename: file,
      bundleName: bundle.name,
      ...(e.dagId ? { dagId: e.dagId } : {}),
      ...(e.taskId ? { taskId: e.taskId } : {}),
      message: e.message,
    };
  }
  // Not a validation error means a loader bug; keep the file listed instead of hiding it.
  const detail =
    e instanceof MiniflowError ? e.message : `unexpected error while loading: ${String((e as Error)?.stack ?? e)}`;
  return { filename: file, bundleName: bundle.name, message: `${file}: ${detail}` };
}

/** `*.json` files under `root`, sorted, skipping node_modules and dot-folders. */
export function findDagFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(path);
      } else if (entry.name.endsWith('.json') && !NOT_DAG_FILES.has(entry.name) && isFile(entry, path)) {
        found.push(path);
      }
    }
  };
  walk(root);
  return found;
}

function isFile(entry: { isFile(): boolean; isSymbolicLink(): boolean }, path: string): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
