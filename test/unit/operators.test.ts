// The operator registry: launch plans, cache default, XCom push, unknown types.
// Runner scripts are checked to exist, so `npm run build` first.
import { operatorOf, isKnownOperator, OPERATOR_TYPES, planLaunch, TaskLaunchError } from '../../src/operators/index.js';
import { runnerScript } from '../../src/operators/launch-support.js';
import type { LaunchSpec } from '../../src/operators/types.js';
import { runnerPaths } from '../../src/util/paths.js';

function spec(taskType: string, fields: Partial<LaunchSpec> = {}): LaunchSpec {
  return { dagId: 'd', taskId: 't', taskType, opArgs: [1], opKwargs: { k: 'v' }, ...fields };
}

const callable = { callableFile: '/bundle/callables/m.py', callableName: 'score' };

describe('operator registry', () => {
  test('lists the five operators in the order messages name them', () => {
    expect(OPERATOR_TYPES).toEqual(['BashOperator', 'PythonOperator', 'NodeOperator', 'FileSensor', 'EmptyOperator']);
    for (const type of OPERATOR_TYPES) {
      expect(isKnownOperator(type)).toBe(true);
      expect(operatorOf(type).type).toBe(type);
    }
    expect(isKnownOperator('KubernetesPodOperator')).toBe(false);
  });

  test('BashOperator runs bash -c and keeps the last stdout line as its XCom', () => {
    const plan = planLaunch(spec('BashOperator', { bashCommand: 'echo hi' }));
    expect(plan).toEqual({
      command: 'bash',
      args: ['-c', 'echo hi'],
      captureStdout: true,
      describe: 'bash -c "echo hi"',
    });
    const op = operatorOf('BashOperator');
    expect(op.xcom).toBe('last-stdout-line');
    expect(op.fields.required).toEqual(['bash_command']);
    expect(() => planLaunch(spec('BashOperator'))).toThrow(
      new TaskLaunchError('BashOperator needs bash_command (task t of DAG d)'),
    );
  });

  test('PythonOperator runs the python runner unbuffered with the callable spec on stdin', () => {
    const plan = planLaunch(spec('PythonOperator', callable));
    expect(plan).toEqual({
      command: 'python3',
      args: ['-u', runnerPaths.python()],
      input: { file: callable.callableFile, name: 'score', args: [1], kwargs: { k: 'v' } },
      captureStdout: false,
      describe: `PythonOperator score() from ${callable.callableFile}`,
    });
    expect(operatorOf('PythonOperator')).toMatchObject({ callableField: 'python_callable', xcom: 'json-return-value' });
    expect(() => planLaunch(spec('PythonOperator'))).toThrow('PythonOperator needs a callable file (task t of DAG d)');
  });

  test('NodeOperator runs the node runner with this node binary', () => {
    const plan = planLaunch(spec('NodeOperator', callable));
    expect(plan.command).toBe(process.execPath);
    expect(plan.args).toEqual([runnerPaths.node()]);
    expect(plan.input).toEqual({ file: callable.callableFile, name: 'score', args: [1], kwargs: { k: 'v' } });
    expect(operatorOf('NodeOperator')).toMatchObject({ callableField: 'callable', xcom: 'json-return-value' });
  });

  test('FileSensor pokes in a node child, pushes nothing and does not take default_args.cache', () => {
    const plan = planLaunch(spec('FileSensor', { filepath: '/tmp/f', pokeInterval: 5, sensorTimeout: 30 }));
    expect(plan.args).toEqual([runnerPaths.sensor()]);
    expect(plan.input).toEqual({ filepath: '/tmp/f', poke_interval: 5, timeout: 30 });
    const op = operatorOf('FileSensor');
    expect(op).toMatchObject({ isSensor: true, cacheFromDefaultArgs: false, xcom: 'none' });
    expect(op.fields).toEqual({ required: ['filepath'], optional: ['poke_interval', 'timeout'] });
  });

  test('EmptyOperator needs no process and cannot be launched', () => {
    const op = operatorOf('EmptyOperator');
    expect(op).toMatchObject({ needsProcess: false, xcom: 'none', cacheFromDefaultArgs: true });
    expect(() => planLaunch(spec('EmptyOperator'))).toThrow(TaskLaunchError);
  });

  test('every operator but sensors takes default_args.cache', () => {
    const takes = OPERATOR_TYPES.filter((t) => operatorOf(t).cacheFromDefaultArgs);
    expect(takes).toEqual(['BashOperator', 'PythonOperator', 'NodeOperator', 'EmptyOperator']);
  });

  test("a process operator's result channel matches what it pushes as XCom", () => {
    const full = spec('', { bashCommand: 'true', filepath: '/tmp/f', ...callable });
    for (const type of OPERATOR_TYPES) {
      const op = operatorOf(type);
      if (!op.needsProcess) continue;
      const plan = op.launch({ ...full, taskType: type });
      expect(plan.captureStdout).toBe(op.xcom === 'last-stdout-line');
      // Runners answer on fd 3 after reading their spec from stdin.
      if (op.xcom === 'json-return-value') expect(plan.input).toBeDefined();
    }
  });

  test('an unknown type loads (no required fields) and fails at launch naming the type and the supported ones', () => {
    const op = operatorOf('KubernetesPodOperator');
    expect(op).toMatchObject({ needsProcess: true, isSensor: false, cacheFromDefaultArgs: true });
    expect(op.fields.required).toEqual([]);
    expect(() => planLaunch(spec('KubernetesPodOperator', { taskId: 'pod' }))).toThrow(
      "operator type 'KubernetesPodOperator' cannot be run by miniflow (task pod): supported are BashOperator, PythonOperator, NodeOperator, FileSensor, EmptyOperator",
    );
  });

  test('an unknown type named *Sensor is a sensor for caching', () => {
    expect(operatorOf('HttpSensor')).toMatchObject({ isSensor: true, cacheFromDefaultArgs: false });
  });

  test('a runner that was not built is a launch error saying how to build it', () => {
    expect(() => runnerScript('/nonexistent/runner.js')).toThrow(
      'runner /nonexistent/runner.js is missing: run `npm run build` first',
    );
  });
});
