import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { bash, statesOf, xcomref } from '../fixtures/e2e-core/dags.js';

/** Templates and XCom references are resolved before dispatch: the child sees concrete values. */
describe('task inputs', () => {
  const h = new TempHome();
  const fixture = (name: string) => readFileSync(join(REPO, 'test/fixtures/e2e-core', name), 'utf8');
  h.write('dags/lib/show.js', fixture('lib_show.js'));
  h.write('dags/lib/show.py', fixture('lib_show.py'));
  const templated = {
    ds: '{{ ds }}',
    ds_nodash: '{{ ds_nodash }}',
    ts: '{{ ts }}',
    run_id: '{{ run_id }}',
    mode: '{{ dag_run.conf.mode }}',
    region: '{{ params.region }}',
    pulled: "{{ ti.xcom_pull(task_ids='up') }}",
  };
  h.writeDag({
    dag_id: 'inputs',
    params: { region: 'eu', limits: { max: 3 } },
    tasks: [
      bash('up', "echo '{{ params.region }}-{{ dag_run.conf.mode }}'", ['node_task', 'py_task', 'env_task']),
      {
        task_id: 'node_task',
        task_type: 'NodeOperator',
        callable: 'lib/show.js:show',
        downstream_task_ids: [],
        op_args: ['{{ ds }}', 42, xcomref('up')],
        op_kwargs: {
          ...templated,
          ref: xcomref('up'),
          nested: { list: [xcomref('up'), '{{ params.limits.max }}'] },
          literal: { n: 1 },
        },
      },
      {
        task_id: 'py_task',
        task_type: 'PythonOperator',
        python_callable: 'lib/show.py:show',
        downstream_task_ids: [],
        op_args: ['{{ ds_nodash }}', xcomref('up')],
        op_kwargs: { mode: '{{ dag_run.conf.mode }}', ref: xcomref('up') },
      },
      bash('env_task', 'echo "$DS|$MODE|$REF|{{ run_id }}|{{ ts }}"', [], {
        env: { DS: '{{ ds }}', MODE: '{{ dag_run.conf.mode }}', REF: xcomref('up') },
      }),
    ],
  });

  test('dags test --conf renders ds, ds_nodash, ts, run_id, dag_run.conf, params, xcom_pull and xcomref', () => {
    const r = h.json(['dags', 'test', 'inputs', '2026-03-04T05:06:07', '--conf', '{"mode": "full"}']);
    expect(r.code).toBe(0);
    const runId = 'manual__2026-03-04T05:06:07+00:00';
    expect(r.data.run_id).toBe(runId);
    expect(statesOf(r.data.tasks)).toEqual({
      up: 'success',
      node_task: 'success',
      py_task: 'success',
      env_task: 'success',
    });
    const xcom = (task: string) => JSON.parse(h.run(['xcom', 'get', 'inputs', runId, task]).stdout);

    expect(xcom('up')).toBe('eu-full');
    expect(xcom('node_task')).toEqual({
      received: [
        '2026-03-04',
        42,
        'eu-full',
        {
          ds: '2026-03-04',
          ds_nodash: '20260304',
          ts: '2026-03-04T05:06:07+00:00',
          run_id: runId,
          mode: 'full',
          region: 'eu',
          pulled: 'eu-full',
          ref: 'eu-full',
          nested: { list: ['eu-full', '3'] },
          literal: { n: 1 },
        },
      ],
    });
    expect(xcom('py_task')).toEqual({ args: ['20260304', 'eu-full'], kwargs: { mode: 'full', ref: 'eu-full' } });
    expect(xcom('env_task')).toBe(`2026-03-04|full|eu-full|${runId}|2026-03-04T05:06:07+00:00`);
  });

  test('a custom --run-id reaches the template', () => {
    const r = h.json(['dags', 'test', 'inputs', '2026-03-05', '--conf', '{"mode": "lite"}', '--run-id', 'my_run']);
    expect(r.code).toBe(0);
    expect(r.data.run_id).toBe('my_run');
    expect(JSON.parse(h.run(['xcom', 'get', 'inputs', 'my_run', 'env_task']).stdout)).toBe(
      '2026-03-05|lite|eu-lite|my_run|2026-03-05T00:00:00+00:00',
    );
  });

  test('a template naming a missing conf key fails the task, not the scheduler, and says why', () => {
    const r = h.json(['dags', 'test', 'inputs', '2026-03-06']);
    expect(r.code).toBe(1);
    expect(r.data.state).toBe('failed');
    expect(statesOf(r.data.tasks)).toMatchObject({ up: 'failed', node_task: 'upstream_failed' });
    const up = r.data.tasks.find((t: any) => t.task_id === 'up');
    expect(up.error).toMatch(/DAG 'inputs', task 'up', field 'bash_command': template .*dag_run\.conf\.mode/);
    // No process started, but the scheduler writes the try's log with the reason.
    const log = h.run(['tasks', 'logs', 'inputs', r.data.run_id, 'up']);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/ERROR - the task's inputs could not be resolved: .*field 'bash_command'/);
  });
});
