import type { DagSchedule } from './model.js';

// What `dags list` prints of a schedule: pure text, apart from the timetable code (luxon, cron) so
// that a listing of unscheduled DAGs never loads it.

/** The schedule as `dags list` shows it, in Airflow's words: `@daily`, `0 0 * * 0`, `1 day, 0:00:00`, `None`. */
export function scheduleSummary(schedule: Pick<DagSchedule, 'timetable'>): string {
  const t = schedule.timetable;
  switch (t.type) {
    case 'none':
      return 'None';
    case 'once':
      return '@once';
    case 'cron':
    case 'cron-trigger':
      return t.expression;
    case 'unsupported':
      return t.name;
    case 'delta':
      return deltaSummary(t.delta);
  }
}

/** Python's str(timedelta) for seconds-only deltas, relativedelta's repr otherwise. */
function deltaSummary(delta: { [unit: string]: number }): string {
  const units = Object.keys(delta);
  if (units.length !== 1 || units[0] !== 'seconds') {
    return `relativedelta(${units.map((u) => `${u}=+${delta[u]}`).join(', ')})`;
  }
  const total = delta.seconds;
  const days = Math.floor(total / 86400);
  const rest = total - days * 86400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  const whole = Math.floor(s);
  const micros = Math.round((s - whole) * 1e6);
  const clock = `${h}:${pad(m)}:${pad(whole)}${micros > 0 ? '.' + String(micros).padStart(6, '0') : ''}`;
  return days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${clock}` : clock;
}

const pad = (n: number) => String(n).padStart(2, '0');
