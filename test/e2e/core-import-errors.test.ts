import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { bash, xcomref } from '../fixtures/e2e-core/dags.js';

const v1 = (dag: object) => ({ __version: 1, dag });

/** Every bad-input case of issue 2 section 2, side by side with good DAGs, through the CLI. */
describe('bad DAG files are import errors and never stop the others', () => {
  const h = new TempHome();
  h.write('dags/lib/ok.py', 'def f():\n    return 1\n');
  const outside = mkdtempSync(join(tmpdir(), 'miniflow-outside-'));
  writeFileSync(join(outside, 'evil.py'), 'def f():\n    return "escaped"\n');
  symlinkSync(join(outside, 'evil.py'), join(h.dags, 'lib', 'link.py'));

  const files: Record<string, string> = {
    malformed: h.write('dags/malformed.json', '{\n  "__version": 1,\n  "dag": {"dag_id": "x",}\n}\n'),
    missing_id: h.write('dags/missing_id.json', v1({ dag_id: 'missing_id', tasks: [{ task_type: 'EmptyOperator' }] })),
    duplicate: h.write(
      'dags/duplicate.json',
      v1({ dag_id: 'duplicate', tasks: [bash('a', 'echo 1'), bash('a', 'echo 2')] }),
    ),
    unknown_dep: h.write('dags/unknown_dep.json', v1({ dag_id: 'unknown_dep', tasks: [bash('a', 'echo', ['ghost'])] })),
    cycle: h.write(
      'dags/cycle.json',
      v1({
        dag_id: 'cycle',
        tasks: [bash('start', 'echo', ['a']), bash('a', 'echo', ['b']), bash('b', 'echo', ['a'])],
      }),
    ),
    wrong_type: h.write(
      'dags/wrong_type.json',
      v1({ dag_id: 'wrong_type', tasks: [bash('t', 'echo', [], { retries: 'three' })] }),
    ),
    xcom_not_upstream: h.write(
      'dags/xcom_not_upstream.json',
      v1({
        dag_id: 'xcom_not_upstream',
        tasks: [bash('a', 'echo a'), bash('b', 'echo $X', [], { env: { X: xcomref('a') } })],
      }),
    ),
    dotdot: h.write(
      'dags/nested/dotdot.json',
      v1({
        dag_id: 'dotdot',
        tasks: [{ task_id: 'p', task_type: 'PythonOperator', python_callable: '../escape.py:f' }],
      }),
    ),
    absolute: h.write(
      'dags/absolute.json',
      v1({
        dag_id: 'absolute',
        tasks: [{ task_id: 'p', task_type: 'PythonOperator', python_callable: join(outside, 'evil.py') + ':f' }],
      }),
    ),
    symlink: h.write(
      'dags/symlink.json',
      v1({
        dag_id: 'symlink',
        tasks: [{ task_id: 'p', task_type: 'PythonOperator', python_callable: 'lib/link.py:f' }],
      }),
    ),
  };
  // Good DAGs beside them, one in a sub-folder (the folder is read recursively).
  h.writeDag({
    dag_id: 'good',
    tasks: [
      bash('hello', 'echo hello', ['call']),
      { task_id: 'call', task_type: 'PythonOperator', python_callable: 'lib/ok.py:f' },
    ],
  });
  h.write('dags/nested/deeper/good_too.json', v1({ dag_id: 'good_too', tasks: [bash('hi', 'echo hi')] }));

  const expected: [keyof typeof files, string | null, string | null, RegExp][] = [
    ['malformed', null, null, /malformed JSON at line 3, column 25/],
    ['missing_id', 'missing_id', null, /tasks\[0\] has no task_id/],
    ['duplicate', 'duplicate', 'a', /duplicate task_id 'a'/],
    ['unknown_dep', 'unknown_dep', 'a', /downstream_task_ids names unknown task 'ghost'/],
    ['cycle', 'cycle', null, /cycle: a -> b -> a/],
    ['wrong_type', 'wrong_type', 't', /field 'retries' must be an integer >= 0, found string "three"/],
    ['xcom_not_upstream', 'xcom_not_upstream', 'b', /xcomref reads XCom of task 'a', which is not upstream of 'b'/],
    ['dotdot', 'dotdot', 'p', /python_callable "\.\.\/escape\.py:f" uses '\.\.'/],
    ['absolute', 'absolute', 'p', /is an absolute path/],
    ['symlink', 'symlink', 'p', /resolves to .*evil\.py, outside the bundle folder/],
  ];

  test('list-import-errors names file, DAG and task with the reason for each bad file', () => {
    const r = h.json(['dags', 'list-import-errors']);
    expect(r.code).toBe(0);
    const byFile = new Map<string, any>(r.data.map((e: any) => [e.filename, e]));
    expect(byFile.size).toBe(expected.length);
    for (const [name, dagId, taskId, detail] of expected) {
      const e = byFile.get(files[name]);
      expect({ name, found: e !== undefined }).toEqual({ name, found: true });
      expect({ name, dag_id: e.dag_id, task_id: e.task_id }).toEqual({ name, dag_id: dagId, task_id: taskId });
      expect(e.error).toMatch(detail);
      expect(e.error).toContain(files[name]);
      if (dagId) expect(e.error).toContain(`DAG '${dagId}'`);
      if (taskId) expect(e.error).toContain(`task '${taskId}'`);
    }
  });

  test('the good DAGs still list and run; the bad ones are not DAGs', () => {
    const list = h.json(['dags', 'list']);
    expect(list.data.map((d: any) => d.dag_id)).toEqual(['good', 'good_too']);
    const plain = h.run(['dags', 'list']);
    expect(plain.stderr).toContain(`${expected.length} file(s) failed to load`);
    const r = h.json(['dags', 'test', 'good', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.data.state).toBe('success');
    expect(h.json(['dags', 'test', 'good_too', '2026-01-01']).data.state).toBe('success');
    const bad = h.run(['dags', 'test', 'cycle', '2026-01-01']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^error: DAG 'cycle' failed to load: .*cycle\.json, DAG 'cycle': .*cycle: a -> b -> a\n$/,
    );
  });

  test('the table form shows the file and the reason', () => {
    const r = h.run(['dags', 'list-import-errors']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('duplicate.json');
    expect(r.stdout).toContain("duplicate task_id 'a'");
  });
});
