import type { Command } from 'commander';
import type { DateTime } from 'luxon';
import type { Dag } from '../../dag/model.js';
import { nextDataInterval, scheduleSummary } from '../../dag/schedule-intervals.js';
import { NotFoundError } from '../../errors.js';
import { pausedDags, setDagPaused } from '../../models/dag-pause.js';
import { DagRunStore } from '../../models/dag-run.js';
import type { Runtime } from '../../runtime.js';
import { isSchedulable, nextDagrun, utc } from '../../scheduler/due-runs.js';
import { parsePositiveInt } from '../parse.js';
import { withRuntime } from '../with-runtime.js';

/** What `dags list` shows of a DAG's schedule (JSON fields `schedule`, `is_paused`, `next_dagrun`). */
export interface ScheduleView {
  schedule: string;
  is_paused: boolean;
  /** The logical date of the next scheduled run (ISO 8601), null when none will come. */
  next_dagrun: string | null;
}

/** The schedule views of the loaded DAGs, by dag_id. */
export async function scheduleViews(
  rt: Runtime,
  dags: Iterable<Pick<Dag, 'dagId' | 'schedule'>>,
): Promise<Map<string, ScheduleView>> {
  const paused = await pausedDags(rt.db);
  const now = utc(rt.clock.now());
  const views = new Map<string, ScheduleView>();
  for (const dag of dags) {
    // An unscheduled DAG has no next run: no need to read its runs.
    const next = isSchedulable(dag.schedule)
      ? nextDagrun(dag.schedule, await lastIntervalEnd(rt, dag.dagId), now)
      : null;
    views.set(dag.dagId, {
      schedule: scheduleSummary(dag.schedule),
      is_paused: paused.get(dag.dagId) ?? rt.settings.core.dagsArePausedAtCreation,
      next_dagrun: next ? next.toJSDate().toISOString() : null,
    });
  }
  return views;
}

/** `dags pause`, `dags unpause`, `dags next-execution`. */
export function registerDagSchedule(dags: Command): void {
  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    dags
      .command(verb)
      .description(
        paused
          ? 'pause a DAG: the scheduler creates no scheduled runs for it (manual runs and dags test still run)'
          : 'unpause a DAG: the scheduler creates its due scheduled runs',
      )
      .argument('<dag_id>')
      .action(async (dagId: string) => {
        await withRuntime(async (rt) => {
          await rt.dag(dagId); // a mistyped id names the closest DAG
          if (!(await setDagPaused(rt.db, dagId, paused))) throw new NotFoundError(`DAG '${dagId}' is not recorded`);
          process.stdout.write(`Dag: ${dagId}, paused: ${paused ? 'True' : 'False'}\n`);
        });
      });
  }

  dags
    .command('next-execution')
    .description("print the logical date of the DAG's next scheduled run ('None' when it has no schedule)")
    .argument('<dag_id>')
    .option('-n, --num-executions <n>', 'print this many next logical dates', '1')
    .action(async (dagId: string, opts: { numExecutions: string }) => {
      const count = parsePositiveInt(opts.numExecutions, '--num-executions');
      await withRuntime(async (rt) => {
        const dag = await rt.dag(dagId);
        if ((await pausedDags(rt.db)).get(dagId))
          process.stderr.write('[INFO] Please be reminded this DAG is PAUSED now.\n');
        const now = utc(rt.clock.now());
        let after = await lastIntervalEnd(rt, dagId);
        for (let i = 0; i < count; i++) {
          const next = nextDataInterval(dag.schedule, after, now);
          if (next === null || (after !== null && next.end <= after)) {
            process.stdout.write('None\n');
            break;
          }
          process.stdout.write(pythonIso(next.start) + '\n');
          after = next.end;
        }
      });
    });
}

/** data_interval_end of the DAG's latest scheduled run: where the schedule continues. */
async function lastIntervalEnd(rt: Runtime, dagId: string): Promise<DateTime | null> {
  const last = await new DagRunStore(rt.db).latestScheduled(dagId);
  return last ? utc(Number(last.data_interval_end ?? last.logical_date)) : null;
}

/** Python's isoformat of a UTC time, as Airflow prints it: `2026-01-01T00:00:00+00:00`. */
function pythonIso(t: DateTime): string {
  return t.toUTC().toISO({ suppressMilliseconds: true, includeOffset: false }) + '+00:00';
}
