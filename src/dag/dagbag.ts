import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DagValidationError, errorMessage } from '../errors.js';
import type { Dag, DagBagResult, DagBundle, ImportErrorRecord } from './model.js';
import { buildDag, type DagLoadOptions } from './dag-builder.js';
import { ModuleHasher, sha256Hex } from './source-hash.js';
import type { TaskDefaults } from './task-builder.js';
import type { ScheduleDefaults } from './schedule.js';
import { readCallableMap, type CallableMap } from './callable-map.js';
import { findDagFiles, importError, readDagFile, type TrackedDagFile } from './dag-files.js';

export { findDagFiles, importError, readDagFile, type TrackedDagFile } from './dag-files.js';

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
