import { TempHome } from '../helpers/cli.js';
import { bash, statesOf } from '../fixtures/e2e-core/dags.js';

const DATE = '2026-03-04';
/** About 10^10 loop iterations: never finishes. */
const FOREVER = "echo '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}'";
/** Each item a list of 90,000 numbers (every value within the engine's limits): the heap is what runs out. */
const HUNGRY =
  "echo '{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [range(90000)] %}{% endfor %}" +
  "{{ ns.l | length }}'";

interface TaskRow {
  task_id: string;
  state: string;
  start_date: string;
  end_date: string;
  error: string | null;
}

/**
 * Issue 11, bounded rendering: templates that outrun a small in-process step budget are rendered in
 * a worker thread, so the scheduler's event loop keeps serving other tasks while a bad one is cut off.
 */
describe('render bounds through the real scheduler', () => {
  const h = new TempHome({ AIRFLOW__CORE__TEMPLATE_RENDER_TIMEOUT: '5' });
  // A chain of quick tasks beside the endless template: each link needs the scheduler's loop again.
  h.writeDag({
    dag_id: 'endless',
    tasks: [
      bash('slow', FOREVER),
      bash('q1', 'echo "{{ ds }}"', ['q2']),
      bash('q2', 'echo "{{ ti.xcom_pull(task_ids=\'q1\') }}"', ['q3']),
      bash('q3', 'echo done'),
    ],
  });
  h.writeDag({ dag_id: 'hungry', tasks: [bash('hungry', HUNGRY), bash('quick', 'echo "{{ ds }}"')] });

  test('the quick chain finishes while the endless template is being cut off; that task fails naming task and field', () => {
    const r = h.json<{ tasks: TaskRow[] }>(['dags', 'test', 'endless', DATE]);
    expect(statesOf(r.data.tasks)).toEqual({ slow: 'failed', q1: 'success', q2: 'success', q3: 'success' });
    const byId = Object.fromEntries(r.data.tasks.map((t) => [t.task_id, t]));
    expect(byId.slow.error).toMatch(
      /^DAG 'endless', task 'slow', field 'bash_command': .*template_render_timeout \(5 s\)/,
    );
    // The whole chain (three tasks dispatched one after another) ended before the bad render was cut off.
    expect(Date.parse(byId.q3.end_date)).toBeLessThan(Date.parse(byId.slow.end_date));
    expect(r.data.tasks.find((t) => t.task_id === 'q2')?.error).toBeNull();
    const q2 = h.run(['xcom', 'get', 'endless', (r.data as unknown as { run_id: string }).run_id, 'q2']);
    expect(q2.stdout.trim()).toBe(`"${DATE}"`);
  });

  test('a template that eats memory fails its task; the scheduler survives it', () => {
    const r = h.json<{ tasks: TaskRow[] }>(['dags', 'test', 'hungry', DATE], {
      AIRFLOW__CORE__TEMPLATE_RENDER_TIMEOUT: '60',
    });
    expect(statesOf(r.data.tasks)).toEqual({ hungry: 'failed', quick: 'success' });
    const hungry = r.data.tasks.find((t) => t.task_id === 'hungry');
    expect(hungry?.error).toMatch(/^DAG 'hungry', task 'hungry', field 'bash_command': .*memory/);
    expect(r.stderr).not.toMatch(/heap out of memory|FATAL/i);
    // The scheduler finished the run and exited as for any failed run (a V8 out-of-memory abort is 134).
    expect(r.code).toBe(1);
  });
});
