import type { Dag, Json, Task } from '../dag/model.js';
import type { DagRunRow } from '../db/rows.js';
import type { TemplateContext } from '../templating/index.js';
import { FINISHED_STATES, RUN, TI, type DagRunState } from '../models/states.js';
import type { TiRef } from '../models/task-instance.js';
import { runKey, subKey, tiKey } from '../util/keys.js';
import { addToCounts, countUpstream, type UpstreamCounts } from './trigger-rules.js';
import { xcomSources } from './xcom-sources.js';

/**
 * The least time between re-reads of a run's view, per task instance in it: 20 x ~5 µs (the whole
 * re-read of one task instance: its row read and turned into an object, the view rebuilt, its task
 * checked for whether it can be due, and evaluated if so), so a re-read is at most ~5% of a run
 * however large: 1 s at 10,000 task instances, 10 s at 100,000.
 */
export const REREAD_MS_PER_TI = 0.1;

/**
 * A scheduler's in-memory view of one active DAG run: task instance states, what it has in flight,
 * and the XComs it has seen. Refreshed from the DB now and then (other schedulers may share the
 * run); between refreshes it is kept current by this scheduler's own transitions, so reacting to
 * one finished task costs O(its downstream), not O(all task instances).
 */
export class RunTracker {
  /** By tiKey(task_id, map_index): a mapped task has one per instance (or its unexpanded -1 placeholder). */
  readonly tis = new Map<string, TiRef>();
  /** Task instances of each task, in map_index order (rebuilt when the view is loaded). */
  private readonly byTask = new Map<string, TiRef[]>();
  /** tiKeys with work in flight. */
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
  /**
   * Per task: the states of its upstream task instances, counted once and then kept current by
   * recount(), so a fan-in task's trigger rule costs O(1) per upstream completion, not O(upstream).
   */
  private readonly upCounts = new Map<string, UpstreamCounts>();
  /** The state each task instance (by tiKey) is counted in, in every entry of upCounts. */
  private readonly counted = new Map<string, string | null>();
  /** How long the last load took (real ms): a large run's view is re-read less often. */
  loadCostMs = 0;
  /** tiKeys whose work finished while a re-read was under way (see reading()). */
  private finishedDuringRead: Set<string> | null = null;
  /** invalidate() was called while a re-read was under way (see reading()). */
  private staleAfterRead = false;
  /**
   * Hits whose write is in flight, by tiKey: their promise says whether the write won. They count
   * as success for their downstream's readiness (stateOf), so the next layer is keyed and looked up
   * while their write commits; nothing that rests on them writes before they have won (pendingWon).
   */
  private readonly pendingHits = new Map<string, Promise<boolean>>();

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
    // A read under way may predate what made the view stale: the load after it keeps the view due.
    if (this.finishedDuringRead) this.staleAfterRead = true;
  }

  /** Whether the view is due a re-read from the DB. */
  refreshDue(now: number, everyMs: number): boolean {
    // A re-read costs O(task instances): at most ~5% of the time goes into re-reading the view.
    // loadCostMs times only the in-memory load; the query, its rows and evaluating the tasks that
    // can be due cost a few times more, so the view's size sets a floor too (else every second at
    // 20,000 tasks).
    const floor = this.tis.size * REREAD_MS_PER_TI;
    return now - this.lastRefresh >= Math.max(everyMs, 20 * this.loadCostMs, floor);
  }

  /**
   * Wraps the read of rows for the next load(): a task instance whose work finishes meanwhile keeps
   * its in-memory state, as one in flight does, since its row may have been read before that work's
   * write (a hit written and settled between the read and the load would be tried again, lose its
   * claim and force re-read after re-read).
   */
  reading<T>(read: Promise<T>): Promise<T> {
    this.finishedDuringRead = new Set();
    return read;
  }

  /**
   * Replaces the view with DB rows, keeping what this scheduler has in flight (or finished during
   * the read, see reading()). Rows of tasks the DAG no longer has (the file changed after the run
   * was created) are left out: they can never run, so they must not keep the run open.
   */
  load(rows: TiRef[], now: number): void {
    // Rebuilt from the rows: a mapped task's placeholder row disappears once it is expanded.
    const previous = new Map(this.tis);
    const keep = this.finishedDuringRead;
    this.finishedDuringRead = null;
    this.tis.clear();
    for (const row of rows) {
      if (!this.dag.tasks.has(row.task_id)) continue;
      const key = tiKey(row.task_id, row.map_index);
      const mine = this.inFlight.has(key) || keep?.has(key) === true;
      this.tis.set(key, (mine ? previous.get(key) : undefined) ?? row);
    }
    this.byTask.clear();
    for (const ti of this.tis.values()) {
      const list = this.byTask.get(ti.task_id);
      if (list) list.push(ti);
      else this.byTask.set(ti.task_id, [ti]);
    }
    for (const list of this.byTask.values()) list.sort((a, b) => a.map_index - b.map_index);
    this.unfinished = 0;
    for (const ti of this.tis.values()) if (!FINISHED_STATES.has(ti.state ?? '')) this.unfinished++;
    this.lastRefresh = this.staleAfterRead ? -Infinity : now;
    this.staleAfterRead = false;
    this.loaded = true;
    this.forgetCounts();
  }

  /** The upstream counts of a task (the states they were last counted in; see recount). */
  upstreamCounts(task: Task): UpstreamCounts {
    let counts = this.upCounts.get(task.taskId);
    if (!counts) {
      const states: (string | null)[] = [];
      for (const u of task.upstreamTaskIds)
        for (const ti of this.instances(u)) {
          const key = tiKey(ti.task_id, ti.map_index);
          if (!this.counted.has(key)) this.counted.set(key, this.stateOf(ti));
          states.push(this.counted.get(key)!);
        }
      counts = countUpstream(states);
      this.upCounts.set(task.taskId, counts);
    }
    return counts;
  }

  /** A task instance changed state: move it between buckets of its downstream tasks' counts. */
  recount(ti: TiRef): void {
    const key = tiKey(ti.task_id, ti.map_index);
    this.finishedDuringRead?.add(key); // called when each piece of work finishes (and when a hit is issued)
    if (!this.counted.has(key)) return; // never counted: the next count reads its state
    const before = this.counted.get(key)!;
    const after = this.stateOf(ti);
    if (before === after) return;
    for (const d of this.dag.tasks.get(ti.task_id)?.downstreamTaskIds ?? []) {
      const counts = this.upCounts.get(d);
      if (!counts) continue;
      addToCounts(counts, before, -1);
      addToCounts(counts, after, 1);
    }
    this.counted.set(key, after);
  }

  /** The state a task instance counts as for its downstream: success while its hit's write is in flight. */
  stateOf(ti: TiRef): string | null {
    return this.pendingHits.size > 0 && this.pendingHits.has(tiKey(ti.task_id, ti.map_index)) ? TI.SUCCESS : ti.state;
  }

  /**
   * A hit's write was issued: until it commits, the task instance counts as success for its
   * downstream (readiness only) and its value is the run's XCom, so they can be keyed meanwhile.
   */
  notePendingHit(ti: TiRef, value: Json | undefined, written: Promise<boolean>): void {
    const key = tiKey(ti.task_id, ti.map_index);
    const won = written.catch(() => false); // a failed write did not win
    this.pendingHits.set(key, won);
    if (value !== undefined) this.xcomValues.set(subKey(key, 'return_value'), value);
    this.recount(ti);
  }

  /** The hit's write ended: won (the state is success) or not (its value is no XCom after all). */
  endPendingHit(ti: TiRef, won: boolean): void {
    const key = tiKey(ti.task_id, ti.map_index);
    if (!this.pendingHits.delete(key)) return;
    if (!won) this.xcomValues.delete(subKey(key, 'return_value'));
    this.recount(ti);
  }

  /**
   * Null when nothing the task rests on has a hit write in flight; else whether all of those writes
   * won: what an attempt of it awaits before it claims or writes anything. It rests on its upstream
   * task instances and on every task whose XCom it reads (any task, when its templates call
   * xcom_pull), so a value lent by a write that then lost never reaches a claim, a process or a row.
   */
  pendingWon(task: Task): Promise<boolean> | null {
    if (this.pendingHits.size === 0) return null;
    const writes: Promise<boolean>[] = [];
    const sources = xcomSources(task);
    if (sources === 'all') writes.push(...this.pendingHits.values());
    else
      for (const id of [...task.upstreamTaskIds, ...sources])
        for (const ti of this.instances(id)) {
          const w = this.pendingHits.get(tiKey(ti.task_id, ti.map_index));
          if (w) writes.push(w);
        }
    if (writes.length <= 1) return writes[0] ?? null;
    return Promise.all(writes).then((won) => won.every(Boolean));
  }

  /** Counts are rebuilt from the states on next use (after a re-read, or when one was found stale). */
  forgetCounts(): void {
    this.upCounts.clear();
    this.counted.clear();
  }

  /** The task's instances in map_index order (one for an unmapped task). */
  instances(taskId: string): TiRef[] {
    return this.byTask.get(taskId) ?? [];
  }

  /** Whether every instance of the task has finished (false while it has none). */
  taskFinished(taskId: string): boolean {
    const list = this.instances(taskId);
    return list.length > 0 && list.every((ti) => FINISHED_STATES.has(ti.state ?? ''));
  }

  /**
   * The tasks a fresh view may have made due, in task order: those with an instance up for retry,
   * or in state none whose trigger rule can answer other than wait. Every rule but `always` waits
   * while no upstream instance has finished (or has a hit in flight), so a new run's view costs its
   * roots, not a trigger rule per task; a task whose upstream has no instance at all is kept.
   */
  dueAfterLoad(): string[] {
    const settled = new Set<string>();
    for (const ti of this.tis.values()) if (FINISHED_STATES.has(this.stateOf(ti) ?? '')) settled.add(ti.task_id);
    return this.dag.topoOrder.filter((id) => {
      let open = false;
      for (const ti of this.instances(id)) {
        if (ti.state === TI.UP_FOR_RETRY) return true;
        if (ti.state === null) open = true;
      }
      if (!open) return false;
      const task = this.dag.tasks.get(id)!;
      return (
        task.triggerRule === 'always' ||
        task.upstreamTaskIds.length === 0 ||
        task.upstreamTaskIds.some((u) => settled.has(u) || !this.byTask.has(u))
      );
    });
  }

  /** Task ids of the DAG that have no task instance row in this run yet. */
  missingTaskIds(): string[] {
    return this.dag.topoOrder.filter((id) => !this.byTask.has(id));
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

  /**
   * An XCom of the run; for a mapped task the list of its instances' values in map_index order, as
   * Airflow hands a mapped task's results downstream (instances that pushed nothing are left out).
   */
  xcom(taskId: string, key: string): Json | undefined {
    if (!this.dag.tasks.get(taskId)?.mapping) return this.xcomValues.get(subKey(taskId, key));
    const values: Json[] = [];
    for (const ti of this.instances(taskId)) {
      const v = this.xcomValues.get(subKey(tiKey(taskId, ti.map_index), key));
      if (v !== undefined) values.push(v);
    }
    return values;
  }

  hasXCom(taskId: string, key: string): boolean {
    return this.xcomValues.has(subKey(taskId, key));
  }

  /**
   * Every XCom as templates see it, [task_id, key, value] (a mapped task's as its list): what a
   * render off the event loop may read.
   */
  xcomEntries(): [string, string, Json][] {
    const out: [string, string, Json][] = [];
    const seen = new Set<string>();
    for (const k of this.xcomValues.keys()) {
      const parts = k.split('\u0000');
      const [taskId, key] = [parts[0], parts[parts.length - 1]];
      if (seen.has(subKey(taskId, key))) continue;
      seen.add(subKey(taskId, key));
      const value = this.xcom(taskId, key);
      if (value !== undefined) out.push([taskId, key, value]);
    }
    return out;
  }

  setXCom(ti: { task_id: string; map_index: number }, key: string, value: Json): void {
    this.xcomValues.set(subKey(tiKey(ti.task_id, ti.map_index), key), value);
  }

  /** Airflow's rule: the run fails when a leaf failed; it succeeds when every leaf succeeded or was skipped. */
  finalState(): DagRunState {
    for (const id of this.dag.topoOrder) {
      const task = this.dag.tasks.get(id)!;
      if (task.downstreamTaskIds.length > 0) continue;
      for (const { state } of this.instances(id))
        if (state === TI.FAILED || state === TI.UPSTREAM_FAILED) return RUN.FAILED;
    }
    return RUN.SUCCESS;
  }
}
