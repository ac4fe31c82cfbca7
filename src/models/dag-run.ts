import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { NotFoundError, UsageError } from '../errors.js';
import { RUN, type DagRunState } from './states.js';

/** What creating a run needs of its DAG: its tasks, in the order their rows are made. */
export interface DagShape {
  topoOrder: readonly string[];
  /** `mapping` is set for a mapped task (its rows are expanded at run time). */
  tasks: ReadonlyMap<string, { taskType: string; retries: number; mapping?: unknown }>;
}

export interface NewDagRun {
  dagId: string;
  runId?: string;
  logicalDate: Date;
  conf: Record<string, unknown>;
  runType: 'manual' | 'scheduled' | 'backfill';
  refreshCache?: boolean;
  /** Airflow's data interval; absent = the logical date alone (a DAG without a schedule). */
  dataInterval?: { start: Date; end: Date };
}

/** Airflow's run id shape: `manual__2026-01-01T00:00:00+00:00`. */
export function defaultRunId(runType: string, logicalDate: Date): string {
  return `${runType}__${logicalDate
    .toISOString()
    .replace(/\.\d{3}Z$/, '+00:00')
    .replace(/Z$/, '+00:00')}`;
}

/** DAG run rows and their state transitions. */
export class DagRunStore {
  constructor(private readonly db: MetadataDb) {}

  /** Creates a queued run and its task instances (state none) in one transaction. */
  async create(dag: DagShape, spec: NewDagRun, now: Date): Promise<DagRunRow> {
    const explicit = spec.runId !== undefined;
    let runId = spec.runId ?? defaultRunId(spec.runType, spec.logicalDate);
    return this.db.transaction(async (t) => {
      // A default id that is taken gets a suffix; an id the user chose must be unique.
      for (let n = 1; ; n++) {
        const taken = await t.query('SELECT 1 FROM dag_run WHERE dag_id = ? AND run_id = ?', [spec.dagId, runId]);
        if (taken.length === 0) break;
        if (explicit) throw new UsageError(`DAG '${spec.dagId}' already has a run '${runId}': choose another --run-id`);
        runId = `${spec.runId ?? defaultRunId(spec.runType, spec.logicalDate)}__${n}`;
      }
      await insertRun(t, dag, { ...spec, runId }, now, this.db.kind === 'postgres');
      return (await t.query<DagRunRow[]>(SELECT_RUN, [spec.dagId, runId]))[0];
    });
  }

  /**
   * Creates the run unless one with its id exists (another scheduler made it first): insert-if-absent
   * on the (dag_id, run_id) unique key, so two schedulers never create the same run twice.
   */
  async createIfAbsent(dag: DagShape, spec: NewDagRun & { runId: string }, now: Date): Promise<DagRunRow | null> {
    return this.db.transaction(async (t) => {
      const created = await insertRun(t, dag, spec, now, this.db.kind === 'postgres', true);
      return created ? (await t.query<DagRunRow[]>(SELECT_RUN, [spec.dagId, spec.runId]))[0] : null;
    });
  }

  /** The run of a DAG with this logical date (the newest when there are several), or null. */
  async forLogicalDate(dagId: string, logicalDate: Date): Promise<DagRunRow | null> {
    const rows = await this.db.query<DagRunRow[]>(
      'SELECT * FROM dag_run WHERE dag_id = ? AND logical_date = ? ORDER BY id DESC',
      [dagId, logicalDate.getTime()],
    );
    return rows[0] ?? null;
  }

  /** The DAG's scheduled run with the latest logical date (the creator of scheduled runs continues after it). */
  async latestScheduled(dagId: string): Promise<DagRunRow | null> {
    const rows = await this.db.query<DagRunRow[]>(
      "SELECT * FROM dag_run WHERE dag_id = ? AND run_type = 'scheduled' ORDER BY logical_date DESC LIMIT 1",
      [dagId],
    );
    return rows[0] ?? null;
  }

  /** Queued and running runs of a DAG (what `max_active_runs` bounds). */
  async countActive(dagId: string): Promise<number> {
    const rows = await this.db.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM dag_run WHERE dag_id = ? AND state IN (?, ?)',
      [dagId, RUN.QUEUED, RUN.RUNNING],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Task instances for DAG tasks the run has no row for (the DAG file gained tasks after the run
   * was created), as Airflow's verify_integrity does.
   */
  async addTaskInstances(run: DagRunRow, dag: DagShape, taskIds: string[]): Promise<void> {
    for (const id of taskIds) {
      const task = dag.tasks.get(id)!;
      await this.db.exec(
        'INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator, try_number, max_tries) VALUES (?, ?, ?, -1, ?, 0, ?) ON CONFLICT (dag_id, run_id, task_id, map_index) DO NOTHING',
        [run.dag_id, run.run_id, id, task.taskType, task.retries],
      );
    }
  }

  async get(dagId: string, runId: string): Promise<DagRunRow> {
    const rows = await this.db.query<DagRunRow[]>('SELECT * FROM dag_run WHERE dag_id = ? AND run_id = ?', [
      dagId,
      runId,
    ]);
    if (rows.length === 0)
      throw new NotFoundError(`DAG '${dagId}' has no run '${runId}' (see: miniflow dags list-runs ${dagId})`);
    return rows[0];
  }

  /**
   * A DAG's runs newest first (by logical date, as Airflow's `dags list-runs`), optionally of one
   * state and with a logical date in [startDate, endDate].
   */
  async listNewestFirst(
    dagId: string,
    f: { state?: string; startDate?: Date; endDate?: Date } = {},
  ): Promise<DagRunRow[]> {
    const where = ['dag_id = ?'];
    const params: unknown[] = [dagId];
    const add = (sql: string, ...p: unknown[]) => void (where.push(sql), params.push(...p));
    if (f.state !== undefined) add('state = ?', f.state);
    if (f.startDate) add('logical_date >= ?', f.startDate.getTime());
    if (f.endDate) add('logical_date <= ?', f.endDate.getTime());
    return this.db.query<DagRunRow[]>(
      `SELECT * FROM dag_run WHERE ${where.join(' AND ')} ORDER BY logical_date DESC, id DESC`,
      params,
    );
  }

  /** Run ids of a DAG (for "did you mean" hints). */
  async runIds(dagId: string): Promise<string[]> {
    const rows = await this.db.query<{ run_id: string }[]>('SELECT run_id FROM dag_run WHERE dag_id = ?', [dagId]);
    return rows.map((r) => r.run_id);
  }

  /** The latest run of a DAG with this logical date, or null (`tasks test` reads its XComs). */
  async latestAt(dagId: string, logicalDate: Date): Promise<DagRunRow | null> {
    const rows = await this.db.query<DagRunRow[]>(
      'SELECT * FROM dag_run WHERE dag_id = ? AND logical_date = ? ORDER BY id DESC',
      [dagId, logicalDate.getTime()],
    );
    return rows[0] ?? null;
  }

  async list(dagId?: string): Promise<DagRunRow[]> {
    return dagId
      ? this.db.query<DagRunRow[]>('SELECT * FROM dag_run WHERE dag_id = ? ORDER BY id', [dagId])
      : this.db.query<DagRunRow[]>('SELECT * FROM dag_run ORDER BY id');
  }

  /** The run, or null. */
  async find(dagId: string, runId: string): Promise<DagRunRow | null> {
    const rows = await this.db.query<DagRunRow[]>('SELECT * FROM dag_run WHERE dag_id = ? AND run_id = ?', [
      dagId,
      runId,
    ]);
    return rows[0] ?? null;
  }

  /** One page of a DAG's runs, oldest first (the API's limit / offset), and how many there are. */
  async page(dagId: string, limit: number, offset: number): Promise<{ rows: DagRunRow[]; total: number }> {
    const rows = await this.db.query<DagRunRow[]>(
      'SELECT * FROM dag_run WHERE dag_id = ? ORDER BY id LIMIT ? OFFSET ?',
      [dagId, limit, offset],
    );
    const n = await this.db.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM dag_run WHERE dag_id = ?', [
      dagId,
    ]);
    return { rows, total: Number(n[0]?.n ?? 0) };
  }

  /** Runs a scheduler should work on. */
  async active(only?: { dagId: string; runId: string }): Promise<DagRunRow[]> {
    if (only) {
      return this.db.query<DagRunRow[]>('SELECT * FROM dag_run WHERE dag_id = ? AND run_id = ? AND state IN (?, ?)', [
        only.dagId,
        only.runId,
        RUN.QUEUED,
        RUN.RUNNING,
      ]);
    }
    return this.db.query<DagRunRow[]>('SELECT * FROM dag_run WHERE state IN (?, ?) ORDER BY id', [
      RUN.QUEUED,
      RUN.RUNNING,
    ]);
  }

  async markRunning(run: DagRunRow, now: Date): Promise<void> {
    await this.db.exec(
      'UPDATE dag_run SET state = ?, start_date = COALESCE(start_date, ?) WHERE id = ? AND state = ?',
      [RUN.RUNNING, now.getTime(), run.id, RUN.QUEUED],
    );
  }

  /**
   * Guarded: only a running run finishes, so two schedulers cannot finish it twice; and only the
   * queueing the caller read (`tasks clear` re-queues a run with a new queued_at), so a scheduler
   * whose view predates a clear cannot finish the run over the cleared task instances.
   */
  async finish(run: DagRunRow, state: DagRunState, now: Date): Promise<boolean> {
    const r = await this.db.exec(
      'UPDATE dag_run SET state = ?, end_date = ? WHERE id = ? AND state IN (?, ?) AND queued_at = ?',
      [state, now.getTime(), run.id, RUN.RUNNING, RUN.QUEUED, Number(run.queued_at)],
    );
    return r.affected > 0;
  }
}

const SELECT_RUN = 'SELECT * FROM dag_run WHERE dag_id = ? AND run_id = ?';

/** Inserts a queued run and its task instances; with `ifAbsent`, false (and nothing written) when the id exists. */
async function insertRun(
  t: SqlRunner,
  dag: DagShape,
  spec: NewDagRun & { runId: string },
  now: Date,
  pg: boolean,
  ifAbsent = false,
): Promise<boolean> {
  const interval = spec.dataInterval ?? { start: spec.logicalDate, end: spec.logicalDate };
  const r = await t.exec(
    `INSERT INTO dag_run (dag_id, run_id, logical_date, run_type, state, conf, refresh_cache, queued_at, data_interval_start, data_interval_end)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)${ifAbsent ? ' ON CONFLICT (dag_id, run_id) DO NOTHING' : ''}`,
    [
      spec.dagId,
      spec.runId,
      spec.logicalDate.getTime(),
      spec.runType,
      RUN.QUEUED,
      JSON.stringify(spec.conf),
      spec.refreshCache ? 1 : 0,
      now.getTime(),
      interval.start.getTime(),
      interval.end.getTime(),
    ],
  );
  if (ifAbsent && r.affected === 0) return false;
  if (pg) await insertTaskInstancesPg(t, dag, spec);
  else await insertTaskInstancesSqlite(t, dag, spec);
  return true;
}

/**
 * SQLite: a run's task instances as ONE statement, their rows one JSON parameter, in task order
 * (ids follow it: task listings order by them). 50 multi-row VALUES statements of 200 rows bound
 * 50,000 parameters one by one through node-sqlite3: for 10,000 tasks ~45 ms of CPU, this ~25 ms
 * (the index inserts alone take ~17 ms).
 */
async function insertTaskInstancesSqlite(
  t: SqlRunner,
  dag: DagShape,
  spec: { dagId: string; runId: string },
): Promise<void> {
  const rows = dag.topoOrder.map((id) => {
    const task = dag.tasks.get(id)!;
    return [id, task.taskType, task.retries];
  });
  await t.exec(
    `INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator, try_number, max_tries)
     SELECT ?, ?, j.value ->> 0, -1, j.value ->> 1, 0, j.value ->> 2 FROM json_each(?) AS j ORDER BY j.key`,
    [spec.dagId, spec.runId, JSON.stringify(rows)],
  );
}

/**
 * PostgreSQL: a run's task instances as ONE statement, their rows one JSON parameter, in task
 * order (ids follow it: task listings order by them). Multi-row VALUES took a round trip per 200.
 */
async function insertTaskInstancesPg(
  t: SqlRunner,
  dag: DagShape,
  spec: { dagId: string; runId: string },
): Promise<void> {
  const rows = dag.topoOrder.map((id, n) => {
    const task = dag.tasks.get(id)!;
    return { n, task_id: id, operator: task.taskType, max_tries: task.retries };
  });
  await t.exec(
    `INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator, try_number, max_tries)
     SELECT ?, ?, j.task_id, -1, j.operator, 0, j.max_tries
       FROM json_to_recordset(?::json) AS j(n int, task_id text, operator text, max_tries int) ORDER BY j.n`,
    [spec.dagId, spec.runId, JSON.stringify(rows)],
  );
}
