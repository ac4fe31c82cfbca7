import type { Dag } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { errorMessage } from '../errors.js';
import { pausedDags } from '../models/dag-pause.js';
import { DagRunStore, defaultRunId } from '../models/dag-run.js';
import { nextDataInterval } from '../dag/schedule-intervals.js';
import { dueScheduledRuns, isSchedulable, utc } from './due-runs.js';

/** Real-time ms a "not due before" answer is trusted: runs deleted or cleared by hand are seen this late at most. */
const RECHECK_MS = 30_000;
/** Real-time ms a paused flag is trusted: `dags unpause` reaches a running scheduler this late at most. */
const PAUSED_RECHECK_MS = 1_000;

export interface DagRunCreatorOptions {
  db: MetadataDb;
  /** The DAGs as last parsed (the registry's live map). */
  dags: () => ReadonlyMap<string, Dag>;
  log: (line: string) => void;
  /** Real-time milliseconds between two passes; the loop may tick far more often when tasks finish. */
  minIntervalMs: number;
}

/**
 * Creates the scheduled runs that are due (see due-runs.ts), `scheduled__<logical date>`, each with
 * its data interval. Insert-if-absent on (dag_id, run_id): several schedulers compute the same ids
 * and only one row is made. Errors are logged, never thrown: one DAG's problem stays that DAG's.
 */
export class DagRunCreator {
  private readonly runs: DagRunStore;
  private lastPass = -Infinity;
  /**
   * Per DAG (while its Dag object is the same): when its next run can become due, in clock ms, and
   * until when (real time) that answer is trusted. The loop passes 20 times a second; without this,
   * every pass read two rows and walked the cron schedule of every scheduled DAG.
   */
  private readonly notBefore = new Map<string, { dag: Dag; at: number; until: number; lastEnd?: number | null }>();

  constructor(private readonly o: DagRunCreatorOptions) {
    this.runs = new DagRunStore(o.db);
  }

  /** One pass over the schedulable DAGs; returns the runs this scheduler created. */
  async createDue(now: Date): Promise<DagRunRow[]> {
    if (performance.now() - this.lastPass < this.o.minIntervalMs) return [];
    this.lastPass = performance.now();
    const dags = [...this.o.dags().values()].filter((d) => {
      const wait = this.notBefore.get(d.dagId);
      const waiting = wait?.dag === d && now.getTime() < wait.at && this.lastPass < wait.until;
      return !waiting && isSchedulable(d.schedule);
    });
    if (dags.length === 0) return [];
    let paused: Map<string, boolean>;
    try {
      paused = await pausedDags(this.o.db);
    } catch (err) {
      this.o.log(`WARNING cannot create scheduled runs: ${errorMessage(err)}`);
      return [];
    }
    const created: DagRunRow[] = [];
    for (const dag of dags) {
      // A DAG not recorded yet counts as paused: its row (and flag) comes with the next parse.
      if (paused.get(dag.dagId) ?? true) {
        // Paused flags are re-read at most every PAUSED_RECHECK_MS while only paused DAGs are waiting.
        this.notBefore.set(dag.dagId, { dag, at: Infinity, until: this.lastPass + PAUSED_RECHECK_MS });
        continue;
      }
      try {
        created.push(...(await this.createFor(dag, now)));
      } catch (err) {
        this.o.log(`WARNING cannot create scheduled runs of DAG '${dag.dagId}': ${errorMessage(err)}`);
      }
    }
    return created;
  }

  private async createFor(dag: Dag, now: Date): Promise<DagRunRow[]> {
    const last = await this.runs.latestScheduled(dag.dagId);
    const lastEnd = last ? Number(last.data_interval_end ?? last.logical_date) : null;
    // A recheck that finds the same latest run keeps the answer: walking a cron schedule is the costly part.
    const known = this.notBefore.get(dag.dagId);
    if (known?.dag === dag && known.lastEnd === lastEnd && now.getTime() < known.at) {
      known.until = this.lastPass + RECHECK_MS;
      return [];
    }
    const lastIntervalEnd = lastEnd !== null ? utc(lastEnd) : null;
    const due = dueScheduledRuns({
      schedule: dag.schedule,
      isPaused: false,
      lastIntervalEnd,
      activeRuns: await this.runs.countActive(dag.dagId),
      now: utc(now),
    });
    if (due.length === 0) {
      // Nothing due: nothing can be before the next interval ends (a run deleted meanwhile is seen within RECHECK_MS).
      const next = nextDataInterval(dag.schedule, lastIntervalEnd, utc(now));
      const at = next ? next.end.toMillis() : Infinity;
      if (at > now.getTime()) this.notBefore.set(dag.dagId, { dag, at, until: this.lastPass + RECHECK_MS, lastEnd });
    }
    const created: DagRunRow[] = [];
    for (const interval of due) {
      const logicalDate = interval.start.toJSDate();
      const run = await this.runs.createIfAbsent(
        dag,
        {
          dagId: dag.dagId,
          runId: defaultRunId('scheduled', logicalDate),
          logicalDate,
          conf: {},
          runType: 'scheduled',
          dataInterval: { start: logicalDate, end: interval.end.toJSDate() },
        },
        now,
      );
      if (!run) continue;
      created.push(run);
      this.o.log(
        `Created ${run.run_id} of DAG '${dag.dagId}' (data interval ${interval.start.toISO()} to ${interval.end.toISO()})`,
      );
    }
    return created;
  }
}
