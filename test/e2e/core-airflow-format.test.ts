import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { statesOf } from '../fixtures/e2e-core/dags.js';

/** DAG files exactly as Airflow stores them in `serialized_dag.data` load and run. */
describe("Airflow's own serialized format", () => {
  const h = new TempHome();
  cpSync(join(REPO, 'test/fixtures/dags-airflow'), h.dags, { recursive: true });
  // The v2 fixture's sensor waits for a fixed path; point it at a file of this home that exists.
  const flag = h.write('flag', 'ready');
  const v2 = join(h.dags, 'etl_v2.json');
  writeFileSync(v2, readFileSync(v2, 'utf8').replace('/tmp/miniflow-fixture-flag', flag));
  // A provider operator miniflow has no runner for, as an Airflow export would hold it.
  h.write('dags/redshift.json', {
    __version: 2,
    dag: {
      dag_id: 'load_redshift',
      tasks: [
        {
          __type: 'operator',
          __var: {
            task_id: 'prepare',
            task_type: 'BashOperator',
            bash_command: 'echo ready',
            downstream_task_ids: ['load'],
          },
        },
        {
          __type: 'operator',
          __var: {
            task_id: 'load',
            task_type: 'S3ToRedshiftOperator',
            _task_module: 'airflow.providers.amazon.aws.transfers.s3_to_redshift',
            schema: 'public',
            table: 'events',
            s3_bucket: 'b',
            s3_key: 'k',
            downstream_task_ids: [],
          },
        },
      ],
    },
  });

  test('all three list and none is an import error', () => {
    const list = h.json(['dags', 'list']);
    expect(list.code).toBe(0);
    expect(list.data.map((d: any) => [d.dag_id, d.tasks])).toEqual([
      ['bash_v1', 2],
      ['etl_v2', 3],
      ['load_redshift', 2],
    ]);
    expect(h.json(['dags', 'list-import-errors']).data).toEqual([]);
  });

  test('v1 envelope with _dag_id, _task_type, _downstream_task_ids and a BashOperator runs', () => {
    const r = h.json(['dags', 'test', 'bash_v1', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({ dag_id: 'bash_v1', run_id: 'manual__2026-01-01T00:00:00+00:00', state: 'success' });
    expect(statesOf(r.data.tasks)).toEqual({ say_hello: 'success', done: 'success' });
    // params as Airflow serializes them ({"__class": ...Param, "default": ...}) render their default.
    const x = h.run(['xcom', 'get', 'bash_v1', r.data.run_id, 'say_hello']);
    expect(JSON.parse(x.stdout)).toBe('hello 2026-01-01');
  });

  test('v2 envelope with __type/__var operator wrappers runs Python, Node and a sensor', () => {
    const r = h.json(['dags', 'test', 'etl_v2', '2026-02-03']);
    expect(r.code).toBe(0);
    expect(r.data.state).toBe('success');
    expect(statesOf(r.data.tasks)).toEqual({ extract: 'success', transform: 'success', wait_for_file: 'success' });
    // op_args from a tuple wrapper, op_kwargs from a dict wrapper with a template, an xcomref between them.
    expect(JSON.parse(h.run(['xcom', 'get', 'etl_v2', r.data.run_id, 'extract']).stdout)).toEqual([1, 2, '2026-02-03']);
    expect(JSON.parse(h.run(['xcom', 'get', 'etl_v2', r.data.run_id, 'transform']).stdout)).toBe(3);
  });

  test('an operator miniflow cannot run fails its task at run time, naming the type', () => {
    const r = h.json(['dags', 'test', 'load_redshift', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(r.data.state).toBe('failed');
    expect(statesOf(r.data.tasks)).toEqual({ prepare: 'success', load: 'failed' });
    const log = h.run(['tasks', 'logs', 'load_redshift', r.data.run_id, 'load']);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/operator type 'S3ToRedshiftOperator' cannot be run by miniflow/);
    // The table form's progress lines say it too.
    const table = h.run(['dags', 'test', 'load_redshift', '2026-01-02']);
    expect(table.code).toBe(1);
    expect(table.stderr).toMatch(/task load: try 1 failed: operator type 'S3ToRedshiftOperator'/);
  });
});
