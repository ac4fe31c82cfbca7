import type { Dag, Json } from '../dag/model.js';
import type { DagRunRow } from '../db/rows.js';
import { xcomEntries, type TemplateContext } from '../templating/index.js';
import { FINISHED_STATES, RUN, TI, type DagRunState } from '../models/states.js';
import type { TiRef } from '../models/task-instance.js';
import { runKey, subKey } from '../util/keys.js';

/**
 * A scheduler's in-memory view of one active DAG run: task instance states, what it has in flight,
 * and the XComs it has seen. Refreshed from the DB now and then (other schedulers may share the
 * run); between refreshes it is kept current by this scheduler's own transitions, so reacting to
 * one finished task costs O(its downstream), not O(all task instances).
 */
export class RunTracker {
  readonly tis = new Map<string, TiRef>();
  readonly inFlight = new Set<string>();
  private readonly xcomValues = new Map<string, Json>();
  private unfinished = 0;
  /** When the view was last read from the DB (clock ms); -Infinity: read it on the next tick. */
  private lastRefresh = -Infinity;
  private loaded = false;
  /** Tasks whose XComs were read from the DB after they finished: nothing more will appear. */
  readonly xcomsLoaded = new Set<string>();
  /** The run's template context, built on first use (its XCom reader reads this tracker live). */
  context?: TemplateContext;

  constructor(
    public run: DagRunRow,
    readonly dag: Dag,
  ) {}

  get key(): string {
    return runKey(this.run.dag_id, this.run.run_id);
  }

  /** The view may be stale (another scheduler took a task instance, a zombie was swept): re-read it. */
  invalidate(): void {
    this.lastRefresh = -Infinity;
  }

  /** Whether the view is due a re-read from the DB. */
  refreshDue(now: number, everyMs: number): boolean {
    return now - this.lastRefresh >= everyMs;
  }

  /**
   * Replaces the view with DB rows, keeping what this scheduler has in flight. Rows of tasks the
   * DAG no longer has (the file changed after the run was created) are left out: they can never
   * run, so they must not keep the run open.
   */
  load(rows: TiRef[], now: number): void {
    for (const row of rows) {
      if (this.inFlight.has(row.task_id) || !this.dag.tasks.has(row.task_id)) continue;
      this.tis.set(row.task_id, row);
    }
    this.unfinished = 0;
    for (const ti of this.tis.values()) if (!FINISHED_STATES.has(ti.state ?? '')) this.unfinished++;
    this.lastRefresh = now;
    this.loaded = true;
  }

  /** Task ids of the DAG that have no task instance row in this run yet. */
  missingTaskIds(): string[] {
    return this.dag.topoOrder.filter((id) => !this.tis.has(id));
  }

  /** Call after a transition so the unfinished count stays right. */
  noteTransition(before: string | null, after: string | null): void {
    const wasDone = FINISHED_STATES.has(before ?? '');
    const isDone = FINISHED_STATES.has(after ?? '');
    if (!wasDone && isDone) this.unfinished--;
    else if (wasDone && !isDone) this.unfinished++;
  }

  get allFinished(): boolean {
    return this.loaded && this.unfinished === 0 && this.inFlight.size === 0;
  }

  xcom(taskId: string, key: string): Json | undefined {
    return this.xcomValues.get(subKey(taskId, key));
  }

  hasXCom(taskId: string, key: string): boolean {
    return this.xcomValues.has(subKey(taskId, key));
  }

  /** Every XCom seen, [task_id, key, value]: what a render off the event loop may read. */
  xcomEntries(): [string, string, Json][] {
    return xcomEntries(this.xcomValues);
  }

  setXCom(taskId: string, key: string, value: Json): void {
    this.xcomValues.set(subKey(taskId, key), value);
  }

  /** Airflow's rule: the run fails when a leaf failed; it succeeds when every leaf succeeded or was skipped. */
  finalState(): DagRunState {
    for (const id of this.dag.topoOrder) {
      const task = this.dag.tasks.get(id)!;
      if (task.downstreamTaskIds.length > 0) continue;
      const state = this.tis.get(id)?.state;
      if (state === TI.FAILED || state === TI.UPSTREAM_FAILED) return RUN.FAILED;
    }
    return RUN.SUCCESS;
  }
}
