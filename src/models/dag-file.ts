import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { ImportErrorRecord } from './import-error.js';

/** A file's size and mtime when it was read (null: it was absent). */
export type FileStamp = { size: number; mtimeMs: number } | null;

/** What the last parse of one DAG file saw and produced (the `dag_file` table, migration 12). */
export interface DagFileRecord {
  bundleName: string;
  fileloc: string;
  size: number;
  mtimeMs: number;
  /** sha256 of the file bytes. */
  contentHash: string;
  /** sha256 of the load options (task and schedule defaults, the callable map's content). */
  optionsHash: string;
  /** The DAG the file defines; null when it failed to load. */
  dagId: string | null;
  importError: ImportErrorRecord | null;
  /** Every other file the load read or probed (callable modules and their imports). */
  deps: Record<string, FileStamp>;
  /** What `dags list` shows without a parse (JSON written by the registry); null for a failed file. */
  summary: unknown;
  /** Wall-clock ms of the read: an mtime this recent cannot prove a later edit absent. */
  readAtMs: number;
  lastParsed: number;
}

interface DagFileRow {
  bundle_name: string;
  fileloc: string;
  size: number | string;
  mtime_ms: number;
  content_hash: string;
  options_hash: string;
  dag_id: string | null;
  import_error: string | null;
  deps: string;
  summary: string | null;
  read_at_ms: number;
  last_parsed: number;
}

export async function loadDagFiles(db: MetadataDb): Promise<DagFileRecord[]> {
  const rows = await db.query<DagFileRow[]>('SELECT * FROM dag_file');
  return rows.map((r) => ({
    bundleName: r.bundle_name,
    fileloc: r.fileloc,
    size: Number(r.size),
    mtimeMs: Number(r.mtime_ms),
    contentHash: r.content_hash,
    optionsHash: r.options_hash,
    dagId: r.dag_id,
    importError: r.import_error ? (JSON.parse(r.import_error) as ImportErrorRecord) : null,
    deps: JSON.parse(r.deps) as Record<string, FileStamp>,
    summary: r.summary ? (JSON.parse(r.summary) as unknown) : null,
    readAtMs: Number(r.read_at_ms),
    lastParsed: Number(r.last_parsed),
  }));
}

export async function saveDagFiles(t: SqlRunner, records: Iterable<DagFileRecord>): Promise<void> {
  for (const f of records) {
    await t.exec(
      `INSERT INTO dag_file (bundle_name, fileloc, size, mtime_ms, content_hash, options_hash, dag_id, import_error, deps, summary, read_at_ms, last_parsed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (bundle_name, fileloc) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         content_hash = excluded.content_hash, options_hash = excluded.options_hash, dag_id = excluded.dag_id,
         import_error = excluded.import_error, deps = excluded.deps, summary = excluded.summary,
         read_at_ms = excluded.read_at_ms, last_parsed = excluded.last_parsed`,
      [
        f.bundleName,
        f.fileloc,
        f.size,
        f.mtimeMs,
        f.contentHash,
        f.optionsHash,
        f.dagId,
        f.importError ? JSON.stringify(f.importError) : null,
        JSON.stringify(f.deps),
        f.summary === null || f.summary === undefined ? null : JSON.stringify(f.summary),
        f.readAtMs,
        f.lastParsed,
      ],
    );
  }
}

export async function deleteDagFiles(
  t: SqlRunner,
  keys: Iterable<{ bundleName: string; fileloc: string }>,
): Promise<void> {
  for (const k of keys) {
    await t.exec('DELETE FROM dag_file WHERE bundle_name = ? AND fileloc = ?', [k.bundleName, k.fileloc]);
  }
}
