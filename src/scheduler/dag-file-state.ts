import { readFileSync } from 'node:fs';
import type { Settings } from '../config/settings.js';
import { readCallableMap, type CallableMap } from '../dag/callable-map.js';
import type { DagLoadOptions } from '../dag/dag-builder.js';
import type { TrackedDagFile } from '../dag/dagbag.js';
import { summaryJson } from '../dag/dag-summary.js';
import { fingerprint, sameFingerprint, type Fingerprint } from '../dag/fs-probe.js';
import type { Dag, DagBundle, ImportErrorRecord } from '../dag/model.js';
import { sha256Hex } from '../dag/source-hash.js';
import { errorMessage } from '../errors.js';
import type { DagFileRecord } from '../models/dag-file.js';

/** A DAG file as the registry knows it: its record, and its DAG when built in this process. */
export interface DagFileState extends DagFileRecord {
  dag?: Dag;
}

export const fileKey = (f: { bundleName: string; fileloc: string }): string => `${f.bundleName}\0${f.fileloc}`;

/**
 * A file whose mtime lies this close to (or after) its last read may have been written again in the
 * same mtime tick (coarse file systems tick in 1-2 s): it is re-hashed, or its DAG re-parsed.
 */
const RACY_MS = 2000;
const racy = (mtimeMs: number, readAtMs: number) => mtimeMs >= readAtMs - RACY_MS;

/** The load options every DAG is built with, and their hash: a change in them re-parses every file. */
export function loadOptions(settings: Settings): {
  options: DagLoadOptions;
  hash: string;
  mapError: ImportErrorRecord | null;
} {
  const { core, scheduler } = settings;
  const options: DagLoadOptions = {
    defaults: { retries: core.defaultTaskRetries, retryDelay: core.defaultRetryDelay },
    scheduleDefaults: { catchup: scheduler.catchupByDefault, maxActiveRuns: core.maxActiveRunsPerDag },
  };
  let map: CallableMap | undefined;
  let mapState: string | null = null;
  let mapError: ImportErrorRecord | null = null;
  const file = core.callableMap || undefined;
  if (file) {
    try {
      mapState = sha256Hex(readFileSync(file));
      map = readCallableMap(file);
    } catch (e) {
      // A broken map is listed like a broken DAG file; the DAGs still load, their tasks just lack callables.
      mapError = { filename: file, bundleName: '', message: errorMessage(e) };
      mapState = `error: ${mapError.message}`;
    }
  }
  const hash = sha256Hex(
    JSON.stringify({ v: 1, defaults: options.defaults, schedule: options.scheduleDefaults, map: mapState }),
  );
  return { options: { ...options, callableMap: map }, hash, mapError };
}

/**
 * Why the DAG built from this file may differ from what `state` says, without reading the file:
 * 'stamp' (size or mtime differ: hash the bytes to know), 'deps' (a callable module or a probed path
 * changed, or the load options did: parse again), or null (unchanged).
 */
export function staleness(
  state: DagFileState,
  stamp: Fingerprint | null,
  optionsHash: string,
  stat: (path: string) => Fingerprint | null = fingerprint,
): 'stamp' | 'deps' | null {
  if (state.optionsHash !== optionsHash) return 'deps';
  for (const [path, then] of Object.entries(state.deps)) {
    if (!sameFingerprint(then, stat(path)) || (then && racy(then.mtimeMs, state.readAtMs))) return 'deps';
  }
  if (!stamp || state.size !== stamp.size || state.mtimeMs !== stamp.mtimeMs) return 'stamp';
  return racy(stamp.mtimeMs, state.readAtMs) ? 'stamp' : null;
}

/** The state a fresh load of a file leaves. */
export function stateOf(loaded: TrackedDagFile, bundle: DagBundle, optionsHash: string, now: Date): DagFileState {
  return {
    bundleName: bundle.name,
    fileloc: loaded.fileloc,
    size: loaded.stamp.size,
    mtimeMs: loaded.stamp.mtimeMs,
    contentHash: loaded.contentHash,
    optionsHash,
    dagId: loaded.dag?.dagId ?? null,
    importError: loaded.error,
    deps: loaded.deps,
    summary: loaded.dag ? summaryJson(loaded.dag) : null,
    readAtMs: loaded.readAtMs,
    lastParsed: now.getTime(),
    ...(loaded.dag ? { dag: loaded.dag } : {}),
  };
}
