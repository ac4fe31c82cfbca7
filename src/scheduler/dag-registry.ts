import { resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import { resolveBundles } from '../dag/bundles.js';
import { findDagFiles, importError, readDagFile } from '../dag/dag-files.js';
import { readSummary, type DagSummary } from '../dag/dag-summary.js';
import { FsProbe, sameFingerprint, type FileDeps } from '../dag/fs-probe.js';
import type { Dag, DagBagResult, DagBundle, ImportErrorRecord } from '../dag/model.js';
import { ModuleHasher, sha256Hex } from '../dag/source-hash.js';
import type { MetadataDb } from '../db/data-source.js';
import { DagValidationError, NotFoundError, errorMessage } from '../errors.js';
import { deleteDagFiles, loadDagFiles, saveDagFiles } from '../models/dag-file.js';
import { dagHeads, upsertDags } from '../models/dag.js';
import { importErrorsMatch, syncImportErrors } from '../models/import-error.js';
import { closestMatch } from '../util/closest.js';
import { fileKey, loadOptions, staleness, stateOf, type DagFileState } from './dag-file-state.js';

/** The DAG loader (task builder, operators), imported on the first parse: listing unchanged files never loads it. */
let loader: typeof import('../dag/dagbag.js') | undefined;

/** Which DAGs a sync must have built in memory: all, none (listing), or one. */
type Want = 'all' | 'none' | { dagId: string; hooks?: BuildHooks };

/**
 * Calls around the parse of one DAG (`load`), for work that overlaps it (`dags test` clears its run
 * meanwhile): `beforeBuild` once every read of the sync is done (the sync waits for its promise),
 * `built` after the parse with the DAG, or null when it was not built or the sync has anything to
 * write (a new file version, an import error): then nothing done meanwhile should be kept.
 * Between the two the sync must not touch the DB: a transaction opened in `beforeBuild` waits for
 * `built`, and a query queued behind it would wait for ever.
 */
export interface BuildHooks {
  beforeBuild(): Promise<void>;
  built(dag: Dag | null): void;
}

/** A DAG as `dags list` shows it, from a parse of this process or from its file's recorded summary. */
export interface ListedDag extends DagSummary {
  fileloc: string;
  bundleName: string;
  teamName: string | null;
}

/**
 * The DAG bundles, parsed incrementally and recorded in the metadata DB (`dag`, `dag_file`,
 * `import_error`), as Airflow's DAG processor does. Each sync stats every DAG file and every file its
 * last load read (callable modules, probed imports); it re-reads only files whose size or mtime
 * changed and re-parses only those whose bytes, dependencies or load options changed. Unchanged DAGs
 * keep their Dag objects; only changed rows are written. A deleted file's DAG leaves the registry and
 * its `dag` row stays (`dags delete` removes it), as before.
 */
export class DagRegistry {
  private readonly files = new Map<string, DagFileState>();
  private filesRead = false;
  /** dag_id -> the file that defines it (the first in bundle and file order), built or not. */
  private winners = new Map<string, DagFileState>();
  private bag: DagBagResult = { dags: new Map(), importErrors: [] };
  /** Every DAG file this registry parsed, in order: tests count parses with it. */
  readonly parsedFiles: string[] = [];

  constructor(
    private readonly settings: Settings,
    private readonly db: MetadataDb,
  ) {}

  /** Brings every DAG up to date (a changed callable module gives new source hashes) and syncs the DB. */
  async refresh(now: Date): Promise<DagBagResult> {
    await this.sync(now, 'all');
    return this.bag;
  }

  /** Syncs the DB, parsing only changed files; then `listed()` and `importErrors` answer without a parse. */
  async scan(now: Date): Promise<void> {
    await this.sync(now, 'none');
  }

  /** One DAG, parsing its file (and changed files) only; the NotFoundError of `get` when unknown. */
  async load(dagId: string, now: Date, hooks?: BuildHooks): Promise<Dag> {
    await this.sync(now, { dagId, hooks });
    return this.get(dagId);
  }

  /** The DAGs built in memory (every DAG after `refresh`). */
  get dags(): Map<string, Dag> {
    return this.bag.dags;
  }

  get importErrors(): ImportErrorRecord[] {
    return this.bag.importErrors;
  }

  /** Whether a DAG file defines this id (as of the last sync). */
  knows(dagId: string): boolean {
    return this.winners.has(dagId);
  }

  /** Every DAG as of the last sync, in bundle and file order. */
  listed(): ListedDag[] {
    const teams = new Map(resolveBundles(this.settings).map((b) => [b.name, b.teamName]));
    return [...this.winners.values()].flatMap((f) => {
      const summary = readSummary(f.summary);
      if (!summary) return [];
      const teamName = teams.get(f.bundleName) ?? null;
      return [{ ...summary, fileloc: f.fileloc, bundleName: f.bundleName, teamName }];
    });
  }

  get(dagId: string): Dag {
    const dag = this.bag.dags.get(dagId);
    if (dag) return dag;
    const err = this.bag.importErrors.find((e) => e.dagId === dagId);
    if (err) throw new NotFoundError(`DAG '${dagId}' failed to load: ${err.message}`);
    const near = closestMatch(dagId, [...this.winners.keys()]);
    if (near) throw new NotFoundError(`DAG '${dagId}' not found; did you mean '${near}'?`);
    throw new NotFoundError(
      `DAG '${dagId}' not found in ${resolveBundles(this.settings)
        .map((b) => b.path)
        .join(', ')} (see: miniflow dags list, miniflow dags list-import-errors)`,
    );
  }

  private async sync(now: Date, want: Want): Promise<void> {
    const bundles = resolveBundles(this.settings);
    const { options, hash: optionsHash, mapError } = loadOptions(this.settings);
    if (!this.filesRead) {
      for (const record of await loadDagFiles(this.db)) this.files.set(fileKey(record), record);
      this.filesRead = true;
    }
    // One hasher per sync: each callable module is read once, and the next sync sees edits.
    const modules = new ModuleHasher(new FsProbe());
    const parse = async (file: string, bundle: DagBundle, read = readDagFile(file)): Promise<DagFileState> => {
      this.parsedFiles.push(file);
      const { loadTrackedDagFile } = (loader ??= await import('../dag/dagbag.js'));
      const state = stateOf(loadTrackedDagFile(file, bundle, { ...options, modules }, read), bundle, optionsHash, now);
      this.files.set(fileKey(state), state);
      changed.add(state);
      return state;
    };
    const changed = new Set<DagFileState>();
    const listed: { bundle: DagBundle; files: DagFileState[] | { error: ImportErrorRecord } }[] = [];
    for (const bundle of bundles) {
      let found: string[];
      try {
        found = findDagFiles(resolve(bundle.path));
      } catch (e) {
        const path = resolve(bundle.path);
        const message = `DAG bundle '${bundle.name}': cannot list folder ${path}: ${errorMessage(e)}`;
        listed.push({ bundle, files: { error: { filename: path, bundleName: bundle.name, message } } });
        continue;
      }
      const states: DagFileState[] = [];
      for (const file of found) {
        const known = this.files.get(fileKey({ bundleName: bundle.name, fileloc: file }));
        const why = known ? staleness(known, modules.fs.stat(file), optionsHash, (p) => modules.fs.stat(p)) : 'deps';
        if (!known || why === 'deps') {
          states.push(await parse(file, bundle));
          continue;
        }
        if (why !== null) {
          // Size or mtime changed: the bytes decide whether it is a new version.
          const read = readDagFile(file);
          if ('error' in read || sha256Hex(read.bytes) !== known.contentHash) {
            states.push(await parse(file, bundle, read));
            continue;
          }
          Object.assign(known, { size: read.stamp.size, mtimeMs: read.stamp.mtimeMs, readAtMs: read.readAtMs });
          changed.add(known);
        }
        states.push(known);
      }
      listed.push({ bundle, files: states });
    }
    const present = new Set(listed.flatMap((l) => (Array.isArray(l.files) ? l.files.map(fileKey) : [])));
    const gone = [...this.files.values()].filter((f) => !present.has(fileKey(f)));
    const heads = await dagHeads(this.db);
    const bundleOf = new Map(bundles.map((b) => [b.name, b]));

    const one = typeof want === 'object' ? want : null;
    await one?.hooks?.beforeBuild();
    // A DAG that must be in memory (or whose row is stale) is parsed; a parse can change the winners, so repeat.
    let errors: ImportErrorRecord[] = [];
    for (let pass = 0; ; pass++) {
      errors = mapError ? [mapError] : [];
      this.winners = new Map();
      for (const { bundle, files } of listed) {
        if (!Array.isArray(files)) {
          errors.push(files.error);
          continue;
        }
        for (const f of files) {
          const state = this.files.get(fileKey(f))!;
          if (state.importError) errors.push(state.importError);
          if (state.dagId === null) continue;
          const first = this.winners.get(state.dagId);
          if (!first) this.winners.set(state.dagId, state);
          else {
            const msg = `dag_id is already loaded from ${first.fileloc}; DAG ids must be unique`;
            errors.push(importError(state.fileloc, bundle, new DagValidationError(state.fileloc, msg, state.dagId)));
          }
        }
      }
      const needed = [...this.winners.values()].filter((f) => {
        if (f.dag) return false;
        const head = heads.get(f.dagId!);
        const teamName = bundleOf.get(f.bundleName)?.teamName ?? null;
        const stale =
          !head ||
          head.fileloc !== f.fileloc ||
          head.fileHash !== f.contentHash ||
          head.bundleName !== f.bundleName ||
          head.teamName !== teamName;
        return stale || want === 'all' || (typeof want === 'object' && want.dagId === f.dagId);
      });
      if (needed.length === 0 || pass >= 2) break;
      for (const f of needed) {
        const fresh = await parse(f.fileloc, bundleOf.get(f.bundleName)!);
        // Built only to be in memory: the same record as the DB's needs no write.
        const same = fresh.contentHash === f.contentHash && fresh.dagId === f.dagId && sameDeps(fresh.deps, f.deps);
        if (same && !changed.has(f)) changed.delete(fresh);
      }
    }

    const rows = [...this.winners.values()].filter((f) => f.dag && changedRow(heads.get(f.dagId!), f.dag));
    const writes = changed.size > 0 || gone.length > 0 || rows.length > 0;
    one?.hooks?.built(writes ? null : (this.winners.get(one.dagId)?.dag ?? null));
    const { dagsArePausedAtCreation } = this.settings.core;
    // Nothing to record (the usual listing): no write lock, so a listing never waits for a running scheduler.
    const unchanged =
      changed.size === 0 && gone.length === 0 && rows.length === 0 && (await importErrorsMatch(this.db, errors));
    if (!unchanged)
      await this.db.transaction(async (t) => {
        await saveDagFiles(t, changed);
        await deleteDagFiles(t, gone);
        await upsertDags(
          t,
          rows.map((f) => f.dag!),
          now,
          dagsArePausedAtCreation,
        );
        await syncImportErrors(t, errors, now);
      });
    for (const f of gone) this.files.delete(fileKey(f));
    const dags = new Map<string, Dag>();
    for (const [dagId, f] of this.winners) if (f.dag) dags.set(dagId, f.dag);
    this.bag = { dags, importErrors: errors };
  }
}

function sameDeps(a: FileDeps, b: FileDeps): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameFingerprint(a[k], b[k]));
}

/** Whether a `dag` row differs from the DAG (a new file version, a moved file, another bundle or team). */
function changedRow(
  head: { fileloc: string; fileHash: string; bundleName: string; teamName: string | null } | undefined,
  dag: Dag,
): boolean {
  return (
    !head ||
    head.fileloc !== dag.fileloc ||
    head.fileHash !== dag.fileHash ||
    head.bundleName !== dag.bundleName ||
    head.teamName !== dag.teamName
  );
}
