import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { NotFoundError, UsageError } from '../errors.js';
import { RUN, type DagRunState } from './states.js';

/** What creating a run needs of its DAG: its tasks, in the order their rows are made. */
export interface DagShape {
  topoOrder: readonly string[];
  tasks: ReadonlyMap<string, { taskType: string; retries: number }>;
}

export interface NewDagRun {
  dagId: string;
  runId?: string;
  logicalDate: Date;
  conf: Record<string, unknown>;
  runType: 'manual' | 'scheduled' | 'backfill';
  refreshCache?: boolean;
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
      await t.exec(
        'INSERT INTO dag_run (dag_id, run_id, logical_date, run_type, state, conf, refresh_cache, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [
          spec.dagId,
          runId,
          spec.logicalDate.getTime(),
          spec.runType,
          RUN.QUEUED,
          JSON.stringify(spec.conf),
          spec.refreshCache ? 1 : 0,
          now.getTime(),
        ],
      );
      const ids = dag.topoOrder;
      // Multi-row inserts keep creating a 10,000-task run to a handful of statements.
      for (let i = 0; i < ids.length; i += 200) {
        const chunk = ids.slice(i, i + 200);
        const values = chunk.map(() => '(?, ?, ?, -1, ?, 0, ?)').join(', ');
        const params = chunk.flatMap((id) => {
          const task = dag.tasks.get(id)!;
          return [spec.dagId, runId, id, task.taskType, task.retries];
        });
        await t.exec(
          `INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator, try_number, max_tries) VALUES ${values}`,
          params,
        );
      }
      const rows = await t.query<DagRunRow[]>('SELECT * FROM dag_run WHERE dag_id = ? AND run_id = ?', [
        spec.dagId,
        runId,
      ]);
      return rows[0];
    });
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

  /** Guarded: only a running run finishes, so two schedulers cannot finish it twice. */
  async finish(run: DagRunRow, state: DagRunState, now: Date): Promise<boolean> {
    const r = await this.db.exec('UPDATE dag_run SET state = ?, end_date = ? WHERE id = ? AND state IN (?, ?)', [
      state,
      now.getTime(),
      run.id,
      RUN.RUNNING,
      RUN.QUEUED,
    ]);
    return r.affected > 0;
  }
}
