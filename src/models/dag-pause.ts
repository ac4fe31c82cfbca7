import type { MetadataDb } from '../db/data-source.js';

/** `dag.is_paused`: a paused DAG gets no scheduled runs (manual runs and `dags test` still run). */
export async function setDagPaused(db: MetadataDb, dagId: string, paused: boolean): Promise<boolean> {
  const r = await db.exec('UPDATE dag SET is_paused = ? WHERE dag_id = ?', [paused ? 1 : 0, dagId]);
  return r.affected > 0;
}

/** Every recorded DAG's paused flag. */
export async function pausedDags(db: MetadataDb): Promise<Map<string, boolean>> {
  const rows = await db.query<{ dag_id: string; is_paused: number | string | boolean }[]>(
    'SELECT dag_id, is_paused FROM dag',
  );
  return new Map(rows.map((r) => [r.dag_id, Number(r.is_paused) === 1 || r.is_paused === true]));
}
