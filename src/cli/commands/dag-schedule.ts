import type { Command } from 'commander';
import type { DateTime } from 'luxon';
import { nextDataInterval } from '../../dag/schedule-intervals.js';
import { NotFoundError } from '../../errors.js';
import { pausedDags, setDagPaused } from '../../models/dag-pause.js';
import { utc } from '../../scheduler/due-runs.js';
import { parsePositiveInt } from '../parse.js';
import { lastIntervalEnd } from '../schedule-view.js';
import { withRuntime } from '../with-runtime.js';

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

/** Python's isoformat of a UTC time, as Airflow prints it: `2026-01-01T00:00:00+00:00`. */
function pythonIso(t: DateTime): string {
  return t.toUTC().toISO({ suppressMilliseconds: true, includeOffset: false }) + '+00:00';
}
