import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DagValidationError, MiniflowError, errorMessage } from '../errors.js';
import type { Dag, DagBagResult, DagBundle, ImportErrorRecord } from './model.js';
import { buildDag, type DagLoadOptions } from './dag-builder.js';
import { ModuleHasher } from './source-hash.js';
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

function importError(file: string, bundle: DagBundle, e: unknown): ImportErrorRecord {
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
