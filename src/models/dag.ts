import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import { replaceImportErrors, type ImportErrorRecord } from './import-error.js';

/** What a `dag` row records of a parsed DAG. */
export interface ParsedDag {
  dagId: string;
  fileloc: string;
  bundleName: string;
  teamName: string | null;
  fileHash: string;
  serialized: string;
}

/** A `dag` row without its (possibly large) serialized text: enough to tell whether it is current. */
export type DagHead = Omit<ParsedDag, 'serialized'>;

/** The recorded DAGs' heads, by dag_id. */
export async function dagHeads(db: MetadataDb): Promise<Map<string, DagHead>> {
  const rows = await db.query<
    { dag_id: string; fileloc: string; bundle_name: string; team_name: string | null; dag_hash: string }[]
  >('SELECT dag_id, fileloc, bundle_name, team_name, dag_hash FROM dag');
  return new Map(
    rows.map((r) => [
      r.dag_id,
      { dagId: r.dag_id, fileloc: r.fileloc, bundleName: r.bundle_name, teamName: r.team_name, fileHash: r.dag_hash },
    ]),
  );
}

/**
 * Upserts `dag` rows, as Airflow's DAG processor does. A DAG seen for the first time is paused when
 * `pausedAtCreation` (`[core] dags_are_paused_at_creation`); a re-parse keeps its flag.
 */
export async function upsertDags(
  t: SqlRunner,
  dags: Iterable<ParsedDag>,
  now: Date,
  pausedAtCreation = false,
): Promise<void> {
  for (const dag of dags) {
    await t.exec(
      `INSERT INTO dag (dag_id, fileloc, bundle_name, team_name, dag_hash, serialized, last_parsed, is_paused) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (dag_id) DO UPDATE SET fileloc = excluded.fileloc, bundle_name = excluded.bundle_name, team_name = excluded.team_name,
         dag_hash = excluded.dag_hash, serialized = excluded.serialized, last_parsed = excluded.last_parsed`,
      [
        dag.dagId,
        dag.fileloc,
        dag.bundleName,
        dag.teamName,
        dag.fileHash,
        dag.serialized,
        now.getTime(),
        pausedAtCreation ? 1 : 0,
      ],
    );
  }
}

/** Records a whole parse of the DAG bundles: every `dag` row upserted and the import errors, in one transaction. */
export async function recordDagBag(
  db: MetadataDb,
  bag: { dags: ReadonlyMap<string, ParsedDag>; importErrors: readonly ImportErrorRecord[] },
  now: Date,
  pausedAtCreation = false,
): Promise<void> {
  await db.transaction(async (t) => {
    await upsertDags(t, bag.dags.values(), now, pausedAtCreation);
    await replaceImportErrors(t, bag.importErrors, now);
  });
}

/** The paused flag of `dag` rows (Airflow's dag.is_paused), read and written by the API. */
export class DagStore {
  constructor(private readonly db: MetadataDb) {}

  /** dag_id -> paused, for every recorded DAG. */
  async pausedFlags(): Promise<Map<string, boolean>> {
    const rows = await this.db.query<{ dag_id: string; is_paused: number | string | null }[]>(
      'SELECT dag_id, is_paused FROM dag',
    );
    return new Map(rows.map((r) => [r.dag_id, Number(r.is_paused ?? 0) === 1]));
  }

  /** Sets the flag; false when the DAG has no row (never parsed). */
  async setPaused(dagId: string, paused: boolean): Promise<boolean> {
    const r = await this.db.exec('UPDATE dag SET is_paused = ? WHERE dag_id = ?', [paused ? 1 : 0, dagId]);
    return r.affected === 1;
  }
}
