import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DagValidationError, MiniflowError, errorMessage } from '../errors.js';
import type { Dag, DagBagResult, DagBundle, ImportErrorRecord } from './model.js';
import { buildDag, type DagLoadOptions } from './dag-builder.js';
import { ModuleHasher, sha256Hex } from './source-hash.js';
import { fingerprint, type FileDeps, type Fingerprint } from './fs-probe.js';
import type { TaskDefaults } from './task-builder.js';
import type { ScheduleDefaults } from './schedule.js';
import { readCallableMap, type CallableMap } from './callable-map.js';

/** JSON files a bundle may hold for its callables' sake; they are never DAGs. */
const NOT_DAG_FILES = new Set(['package.json', 'package-lock.json', 'tsconfig.json']);

/** Loads one DAG file. Throws DagValidationError. */
export function loadDagFile(file: string, bundle: DagBundle, options: DagLoadOptions = {}): Dag {
  const fileloc = resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(fileloc);
  } catch (e) {
    throw new DagValidationError(fileloc, `cannot read the DAG file: ${errorMessage(e)}`);
  }
  return buildDag(fileloc, bytes, bundle, options);
}

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

/** Loads one DAG file recording every other file the load looks at (`options.modules` is the load's hasher). */
export function loadTrackedDagFile(
  file: string,
  bundle: DagBundle,
  options: DagLoadOptions & { modules: ModuleHasher },
  read = readDagFile(resolve(file)),
): TrackedDagFile {
  const fileloc = resolve(file);
  if ('error' in read) {
    const error = importError(file, bundle, new DagValidationError(fileloc, read.error));
    return {
      fileloc,
      stamp: { size: -1, mtimeMs: -1 },
      readAtMs: Date.now(),
      contentHash: '',
      deps: {},
      dag: null,
      error,
    };
  }
  const built = options.modules.fs.track(() => buildDag(fileloc, read.bytes, bundle, options));
  return {
    fileloc,
    stamp: read.stamp,
    readAtMs: read.readAtMs,
    contentHash: 'value' in built ? built.value.fileHash : sha256Hex(read.bytes),
    deps: built.deps,
    dag: 'value' in built ? built.value : null,
    error: 'error' in built ? importError(file, bundle, built.error) : null,
  };
}

/**
 * Every `*.json` DAG file of every bundle. A file that fails becomes an import error and never
 * stops the others loading; a dag_id seen before is an import error for the later file.
 */
export interface DagBagOptions {
  defaults?: TaskDefaults;
  scheduleDefaults?: ScheduleDefaults;
  /** Absolute path of the `[core] callable_map` file; re-read on every load so edits are picked up. */
  callableMapFile?: string;
}

export function loadDagBag(bundles: DagBundle[], options: DagBagOptions = {}): DagBagResult {
  const dags = new Map<string, Dag>();
  const importErrors: ImportErrorRecord[] = [];
  let callableMap: CallableMap | undefined;
  if (options.callableMapFile) {
    try {
      callableMap = readCallableMap(options.callableMapFile);
    } catch (e) {
      // A broken map is listed like a broken DAG file; the DAGs still load, their tasks just lack callables.
      importErrors.push({ filename: options.callableMapFile, bundleName: '', message: errorMessage(e) });
    }
  }
  // One hasher per load: each callable module is read once, and the next load sees edits.
  const modules = new ModuleHasher();
  for (const bundle of bundles) {
    let files: string[];
    try {
      files = findDagFiles(resolve(bundle.path));
    } catch (e) {
      importErrors.push({
        filename: resolve(bundle.path),
        bundleName: bundle.name,
        message: `DAG bundle '${bundle.name}': cannot list folder ${resolve(bundle.path)}: ${errorMessage(e)}`,
      });
      continue;
    }
    for (const file of files) {
      try {
        const dag = loadDagFile(file, bundle, {
          modules,
          defaults: options.defaults,
          scheduleDefaults: options.scheduleDefaults,
          callableMap,
        });
        const first = dags.get(dag.dagId);
        if (first) {
          throw new DagValidationError(
            file,
            `dag_id is already loaded from ${first.fileloc}; DAG ids must be unique`,
            dag.dagId,
          );
        }
        dags.set(dag.dagId, dag);
      } catch (e) {
        importErrors.push(importError(file, bundle, e));
      }
    }
  }
  return { dags, importErrors };
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
