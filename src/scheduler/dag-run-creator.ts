import type { Dag } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { errorMessage } from '../errors.js';
import { pausedDags } from '../models/dag-pause.js';
import { DagRunStore, defaultRunId } from '../models/dag-run.js';
import { dueScheduledRuns, isSchedulable, utc } from './due-runs.js';

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

  constructor(private readonly o: DagRunCreatorOptions) {
    this.runs = new DagRunStore(o.db);
  }

  /** One pass over the schedulable DAGs; returns the runs this scheduler created. */
  async createDue(now: Date): Promise<DagRunRow[]> {
    if (performance.now() - this.lastPass < this.o.minIntervalMs) return [];
    this.lastPass = performance.now();
    const dags = [...this.o.dags().values()].filter((d) => isSchedulable(d.schedule));
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
      if (paused.get(dag.dagId) ?? true) continue;
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
    const due = dueScheduledRuns({
      schedule: dag.schedule,
      isPaused: false,
      lastIntervalEnd: last ? utc(Number(last.data_interval_end ?? last.logical_date)) : null,
      activeRuns: await this.runs.countActive(dag.dagId),
      now: utc(now),
    });
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
