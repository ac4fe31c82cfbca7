// Issue 13.1: every miss says, at decision time, how it differs from the newest entry of its task:
// in `dags test` (table and JSON), `tasks states-for-dag-run`, the try's log and the cache event,
// in the same words as `cache explain`.
import { TempHome } from '../helpers/cli.js';

const MODULE = (n: number) => `export function compute({ day }) { return { day, n: ${n} }; }\n`;

function dag(): object {
  return {
    dag_id: 'why',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'compute',
        task_type: 'NodeOperator',
        callable: 'callables/why.js:compute',
        op_kwargs: { day: '{{ dag_run.conf.day }}' },
        cache: { ttl: 60 },
        downstream_task_ids: [],
      },
    ],
  };
}

interface TaskJson {
  task_id: string;
  cache: { decision: string; reason: string; stored: boolean };
}

describe('why a task missed, recorded at decision time', () => {
  const h = new TempHome();
  h.write('dags/callables/why.js', MODULE(1));
  h.writeDag(dag());
  const runDag = (runId: string, conf: object, env: Record<string, string> = {}, extra: string[] = []) => {
    const r = h.json<{ state: string; tasks: TaskJson[] }>(
      ['dags', 'test', 'why', '2026-01-01', '--run-id', runId, '--conf', JSON.stringify(conf), ...extra],
      env,
    );
    expect(r.data.state).toBe('success');
    return r.data.tasks[0].cache;
  };

  test('the first run says there is no earlier entry', () => {
    expect(runDag('r1', { day: 'mon' })).toMatchObject({ decision: 'miss', reason: 'no earlier entry; stored' });
  });

  test('an input change names the input with old and new values, everywhere the miss is shown', () => {
    const c = runDag('r2', { day: 'tue' });
    expect(c.decision).toBe('miss');
    expect(c.reason).toBe('input op_kwargs.day changed from "mon" to "tue"; stored');
    const states = h.json<TaskJson[]>(['tasks', 'states-for-dag-run', 'why', 'r2']);
    expect(states.data[0].cache.reason).toBe(c.reason);
    const log = h.run(['tasks', 'logs', 'why', 'r2', 'compute']);
    expect(log.stdout).toContain('Cache miss: input op_kwargs.day changed from "mon" to "tue"');
    const stats = h.json<any>(['cache', 'stats']);
    expect(JSON.stringify(stats.data)).not.toContain('no entry for this key');
  });

  test('a callable edit says the source changed (as cache explain does), in the table too', () => {
    h.write('dags/callables/why.js', MODULE(2));
    const explain = h.json<{ reasons: string[] }>(['cache', 'explain', 'why', 'compute', '--conf', '{"day":"tue"}']);
    const table = h.run(['dags', 'test', 'why', '2026-01-01', '--run-id', 'r3', '--conf', '{"day":"tue"}']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/source (file callables\/why\.js changed|changed)/);
    expect(table.stdout).not.toContain('no entry for this key');
    const states = h.json<TaskJson[]>(['tasks', 'states-for-dag-run', 'why', 'r3']);
    const recorded = states.data[0].cache.reason.replace(/; stored$/, '');
    for (const part of recorded.split('; ')) expect(explain.data.reasons).toContain(part);
  });

  test('an expired entry says when it expired', () => {
    const later = { MINIFLOW_FAKE_NOW: new Date(Date.now() + 3600_000).toISOString() };
    expect(runDag('r4', { day: 'tue' }, later).reason).toMatch(/^expired at \d{4}-\d\d-\d\dT.*; stored$/);
  });

  test('--refresh-cache says a refresh was requested', () => {
    expect(runDag('r5', { day: 'tue' }, {}, ['--refresh-cache']).reason).toMatch(/^refresh requested/);
  });
});
