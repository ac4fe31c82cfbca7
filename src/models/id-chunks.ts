/**
 * Task ids per `task_id IN (...)` query: a DAG's every task id as bound variables would pass SQLite's
 * limit (32,766) past ~32,000 tasks and PostgreSQL's (65,535) past ~65,000.
 */
export const IDS_PER_QUERY = 500;

/** The rows of `query(chunk)` for each chunk of `ids` (IDS_PER_QUERY at a time), in chunk order. */
export async function perIdChunk<T>(ids: readonly string[], query: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY)
    for (const row of await query(ids.slice(i, i + IDS_PER_QUERY))) out.push(row);
  return out;
}
