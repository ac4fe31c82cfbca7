import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadDagFile } from '../../src/dag/dagbag.js';
import type { DagBundle } from '../../src/dag/model.js';
import { bash, envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const fixtures: DagBundle = { name: 'fixtures', path: resolve('test/fixtures/dags-airflow'), teamName: 'team_a' };

describe('Airflow serialized DAG envelope', () => {
  test('v1 export with _dag_id, _task_type, _downstream_task_ids and Param dicts loads as is', () => {
    const file = join(fixtures.path, 'bash_v1.json');
    const dag = loadDagFile(file, fixtures);
    expect(dag.dagId).toBe('bash_v1');
    expect(dag.description).toBe('Airflow 2 export');
    expect(dag.fileloc).toBe(file);
    expect(dag.teamName).toBe('team_a');
    expect(dag.params).toEqual({ greeting: 'hello' });
    expect(dag.serialized).toBe(readFileSync(file, 'utf8'));
    expect(dag.fileHash).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(dag.topoOrder).toEqual(['say_hello', 'done']);

    const hello = dag.tasks.get('say_hello')!;
    expect(hello.taskType).toBe('BashOperator');
    expect(hello.inputs).toEqual({ bash_command: 'echo {{ params.greeting }} {{ ds }}', env: { GREETING: 'hi' } });
    expect(hello.downstreamTaskIds).toEqual(['done']);
    expect(hello.retries).toBe(1);
    expect(hello.retryDelay).toBe(120);
    expect(hello.triggerRule).toBe('all_success');
    expect(hello.cache).toBeNull();
    expect(hello.executionTimeout).toBeNull();

    const done = dag.tasks.get('done')!;
    expect(done.upstreamTaskIds).toEqual(['say_hello']);
    expect(done.triggerRule).toBe('all_done');
    // default_args.retries applies to a task that does not set it
    expect(done.retries).toBe(1);
    expect(done.retryDelay).toBe(120);
  });

  test('v2 export with __type/__var wrappers, operator wrappers and a Param list is unwrapped', () => {
    const dag = loadDagFile(join(fixtures.path, 'etl_v2.json'), fixtures);
    expect(dag.params).toEqual({ region: 'eu', limits: { max: 10 } });
    expect(dag.topoOrder).toEqual(['extract', 'transform', 'wait_for_file']);

    const extract = dag.tasks.get('extract')!;
    expect(extract.inputs).toEqual({ op_args: [1, 2], op_kwargs: { day: '{{ ds }}' } });
    expect(extract.executionTimeout).toBe(600);
    expect(extract.retries).toBe(2);
    expect(extract.retryDelay).toBe(60);
    expect(extract.pythonCallable).toBe('lib/etl.py:extract');
    expect(extract.callableFile).toBe(join(fixtures.path, 'lib/etl.py'));
    expect(extract.callableName).toBe('extract');
    expect(extract.cache).toEqual({
      exclude_inputs: [],
      include_inputs: [],
      version: '',
      serialize: false,
      outputs: [],
      input_files: [],
      file_hash: 'content',
    });

    const transform = dag.tasks.get('transform')!;
    // xcomref objects stay untouched for the templating step; sets become arrays
    expect(transform.inputs.op_kwargs).toEqual({
      rows: { __type: 'xcomref', __var: { task_id: 'extract', key: 'return_value' } },
      tags: ['a', 'b'],
    });
    expect(transform.xcomDependencies).toEqual(['extract']);
    expect(transform.callableFile).toBe(join(fixtures.path, 'lib/transform.js'));
    expect(transform.callableName).toBe('run');
    expect(transform.cache).toEqual({
      ttl: 3600,
      exclude_inputs: ['tags'],
      include_inputs: ['params.region', 'dag_run.conf.mode', 'ds'],
      version: '2',
      serialize: true,
      outputs: [],
      input_files: [],
      file_hash: 'content',
    });

    const wait = dag.tasks.get('wait_for_file')!;
    expect(wait.isSensor).toBe(true);
    expect(wait.pokeInterval).toBe(5);
    expect(wait.sensorTimeout).toBe(30);
    expect(wait.inputs).toEqual({ filepath: '/tmp/miniflow-fixture-flag' });
    // default_args.cache does not reach sensors
    expect(wait.cache).toBeNull();
  });

  test('plain params, defaults for unset fields, unknown operator types load', () => {
    const bundle = tempBundle();
    const file = writeIn(
      bundle,
      'd.json',
      envelope(
        'plain',
        [
          bash('a', ['b']),
          { task_id: 'b', task_type: 'KubernetesPodOperator', image: 'x' },
          { task_id: 's', task_type: 'FileSensor', filepath: '/tmp/f' },
        ],
        { params: { n: 3, obj: { k: [1] } } },
      ),
    );
    const dag = loadDagFile(file, bundle);
    expect(dag.params).toEqual({ n: 3, obj: { k: [1] } });
    const a = dag.tasks.get('a')!;
    expect(a.retries).toBe(0);
    expect(a.retryDelay).toBe(300);
    expect(a.isSensor).toBe(false);
    expect(dag.tasks.get('b')!.taskType).toBe('KubernetesPodOperator');
    const s = dag.tasks.get('s')!;
    expect(s.pokeInterval).toBe(60);
    expect(s.sensorTimeout).toBe(604800);
  });

  test('default_args fill env, cwd, trigger_rule and execution_timeout the task does not set', () => {
    const bundle = tempBundle();
    const file = writeIn(
      bundle,
      'd.json',
      envelope(
        'defaults',
        [bash('a', [], {}), bash('b', [], { env: { OWN: '1' }, trigger_rule: 'always', execution_timeout: null })],
        { default_args: { env: { SHARED: 'x' }, cwd: '/tmp', trigger_rule: 'one_success', execution_timeout: 30 } },
      ),
    );
    const dag = loadDagFile(file, bundle);
    const a = dag.tasks.get('a')!;
    expect(a.inputs.env).toEqual({ SHARED: 'x' });
    expect(a.inputs.cwd).toBe('/tmp');
    expect(a.triggerRule).toBe('one_success');
    expect(a.executionTimeout).toBe(30);
    const b = dag.tasks.get('b')!;
    expect(b.inputs.env).toEqual({ OWN: '1' });
    expect(b.triggerRule).toBe('always');
    expect(b.executionTimeout).toBeNull();
  });
});
