import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { statesOf } from '../fixtures/e2e-core/dags.js';

/**
 * Serialized DAGs copied from public Airflow 2.x database dumps (test/fixtures/dags-airflow-real,
 * README there says where each came from): they load and list, their Bash and Empty tasks run, and a
 * PythonOperator / TaskFlow task without a callable fails alone with a message saying how to fix it.
 */
describe('real Airflow exports', () => {
  const h = new TempHome();
  cpSync(join(REPO, 'test/fixtures/dags-airflow-real'), h.dags, { recursive: true });

  test('every export loads and lists; none is an import error', () => {
    const list = h.json(['dags', 'list']);
    expect(list.code).toBe(0);
    expect(list.data.map((d: any) => [d.dag_id, d.tasks])).toEqual([
      ['common_system_maintenance', 4],
      ['hello_world', 1],
      ['hd_showcase', 6],
      ['test', 3],
      ['project_trading_daily_sync', 3],
      ['download_workflow', 6],
      ['simple_test_workflow', 2],
    ]);
    expect(h.json(['dags', 'list-import-errors']).data).toEqual([]);
  });

  test('a BashOperator from a real export runs and pushes its last line', () => {
    const r = h.json(['dags', 'test', 'hello_world', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(statesOf(r.data.tasks)).toEqual({ print_hello: 'success' });
    const x = h.run(['xcom', 'get', 'hello_world', r.data.run_id, 'print_hello']);
    expect(JSON.parse(x.stdout)).toBe('Hello World from Airflow!');
  });

  test('the EmptyOperators run; the PythonOperator without a callable fails alone, saying how to supply it', () => {
    const r = h.json(['dags', 'test', 'test', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(statesOf(r.data.tasks)).toEqual({
      start_task: 'success',
      python_task: 'failed',
      end_task: 'upstream_failed',
    });
    const log = h.run(['tasks', 'logs', 'test', r.data.run_id, 'python_task']);
    expect(log.stdout).toMatch(/PythonOperator task 'python_task' has no python_callable/);
    expect(log.stdout).toMatch(/"python_callable": "path\/in\/bundle\.py:function"/);
    expect(log.stdout).toMatch(/map "test\.python_task" to "path\/in\/bundle\.py:function" .*\[core\] callable_map/);
  });

  test('[core] callable_map supplies the callables: the TaskFlow DAG runs with XComArgs between tasks', () => {
    h.write(
      'dags/lib/download.py',
      [
        'def scan():',
        '    return [1, 2, 3]',
        'def prepare(batch):',
        '    return batch',
        'def images(batch):',
        '    return len(batch)',
        'def videos(batch):',
        '    return 10',
        'def stats(a, b):',
        '    return a + b',
        'def cleanup():',
        '    return "clean"',
        '',
      ].join('\n'),
    );
    h.write('callables.json', {
      'download_workflow.scan_download_queue': 'lib/download.py:scan',
      'download_workflow.prepare_download_batch': 'lib/download.py:prepare',
      'download_workflow.download_images': 'lib/download.py:images',
      'download_workflow.download_videos': 'lib/download.py:videos',
      'download_workflow.update_download_stats': 'lib/download.py:stats',
      'download_workflow.cleanup_old_records': 'lib/download.py:cleanup',
    });
    const env = { AIRFLOW__CORE__CALLABLE_MAP: 'callables.json' };
    const r = h.json(['dags', 'test', 'download_workflow', '2026-01-01'], env);
    expect(r.code).toBe(0);
    expect(Object.values(statesOf(r.data.tasks))).toEqual(Array(6).fill('success'));
    const x = h.run(['xcom', 'get', 'download_workflow', r.data.run_id, 'update_download_stats'], env);
    expect(JSON.parse(x.stdout)).toBe(13);
    // Without the map the same DAG still loads; its first task fails with the missing-callable message.
    const bare = h.json(['dags', 'test', 'download_workflow', '2026-01-02']);
    expect(bare.code).toBe(1);
    expect(statesOf(bare.data.tasks).scan_download_queue).toBe('failed');
  });

  test('a callable_map file that is not JSON is listed as an import error; the DAGs still load', () => {
    h.write('broken-map.json', '{not json');
    const env = { AIRFLOW__CORE__CALLABLE_MAP: 'broken-map.json' };
    const errors = h.json(['dags', 'list-import-errors'], env).data;
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toMatch(/\[core\] callable_map .*broken-map\.json: cannot read it as JSON/);
    expect(h.json(['dags', 'list'], env).data).toHaveLength(7);
  });
});
