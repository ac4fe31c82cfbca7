// Issue 14, point 6 through the real CLI: typos in airflow.cfg, AIRFLOW__ variables, dates, folders
// and ids are caught with an error (or, for unknown config keys, a warning) that says what to write.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { TempHome } from '../helpers/cli.js';

function bash(taskId: string, command = 'echo ok', extra: object = {}): object {
  return { task_id: taskId, task_type: 'BashOperator', bash_command: command, downstream_task_ids: [], ...extra };
}

describe('airflow.cfg and AIRFLOW__ variables', () => {
  test('a near miss of a known key is a warning naming the closest key; the value is not taken', () => {
    const h = new TempHome();
    h.write('airflow.cfg', '[core]\nparalelism = 2\nload_examples = False\n\n[webserver]\nbase_url = http://x\n');
    const r = h.run(['config', 'get-value', 'core', 'parallelism']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('4\n');
    expect(r.stderr).toBe(
      `WARNING ${join(h.home, 'airflow.cfg')} line 2: [core] paralelism is not an option miniflow knows; did you mean \`parallelism\`? (ignored)\n`,
    );
  });

  test('an unknown AIRFLOW__SECTION__KEY near a known one is a warning; real Airflow keys stay quiet', () => {
    const h = new TempHome({
      AIRFLOW__CORE__PARALELISM: '2',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: 'cat /x',
    });
    const r = h.run(['config', 'get-value', 'core', 'parallelism']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('4\n');
    expect(r.stderr).toBe(
      'WARNING environment variable AIRFLOW__CORE__PARALELISM is not an option miniflow knows; did you mean `AIRFLOW__CORE__PARALLELISM`? (ignored)\n',
    );
  });

  test.each([
    ['[core\nparallelism = 2\n', 1, /malformed section header '\[core': write \[section\]/],
    ['[core]\nparallelism 2\n', 2, /malformed line 'parallelism 2': expected 'key = value' under a \[section\]/],
    ['parallelism = 2\n[core]\n', 1, /'parallelism = 2' is outside any section/],
  ])('a malformed line is an error naming the file and line (%j)', (cfg, line, detail) => {
    const h = new TempHome();
    const file = h.write('airflow.cfg', cfg);
    const r = h.run(['config', 'get-value', 'core', 'parallelism']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: config file ${file} line ${line}: `));
    expect(r.stderr).toMatch(detail);
    expect(h.run(['dags', 'list']).code).toBe(1);
  });

  test('continuation lines, comments and quoted values still read as before', () => {
    const h = new TempHome();
    h.write(
      'airflow.cfg',
      '# comment\n; another\n[core]\nparallelism = 6 ; inline\n[logging]\nbase_log_folder = "/tmp/x;y"\n',
    );
    expect(h.run(['config', 'get-value', 'core', 'parallelism']).stdout).toBe('6\n');
    expect(h.run(['config', 'get-value', 'logging', 'base_log_folder']).stdout).toBe('/tmp/x;y\n');
  });
});

describe('dates, folders and ids', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'example_pipeline',
    tasks: [bash('extract', 'echo 1', { downstream_task_ids: ['summarize'] }), bash('summarize')],
  });

  test('2026-02-30 is an error, not a run on 2026-03-02', () => {
    const r = h.run(['dags', 'test', 'example_pipeline', '2026-02-30']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: logical_date '2026-02-30' is not a valid date \(.*\): use YYYY-MM-DD/);
    expect(h.json(['dags', 'list-runs', 'example_pipeline']).data).toEqual([]);
  });

  test('--logical-date 01/02/2026 is an error that gives the accepted forms', () => {
    const r = h.run(['dags', 'trigger', 'example_pipeline', '--logical-date', '01/02/2026']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: --logical-date '01/02/2026' is not in an accepted form: use YYYY-MM-DD (2026-01-31) or an ISO 8601 timestamp (2026-01-31T06:00:00Z, 2026-01-31T06:00:00+02:00; UTC when no offset)\n",
    );
  });

  test('ISO 8601 timestamps with and without an offset are accepted', () => {
    const r = h.run([
      'dags',
      'trigger',
      'example_pipeline',
      '--logical-date',
      '2026-01-31T06:00:00+02:00',
      '--run-id',
      'iso',
    ]);
    expect(r.code).toBe(0);
    const runs = h.json(['dags', 'list-runs', 'example_pipeline']).data as { run_id: string; logical_date: string }[];
    expect(runs.find((x) => x.run_id === 'iso')?.logical_date).toBe('2026-01-31T04:00:00.000Z');
  });

  test('a mistyped DAG id suggests the closest one', () => {
    const r = h.run(['dags', 'test', 'exmple_pipeline', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: DAG 'exmple_pipeline' not found; did you mean 'example_pipeline'?\n");
  });

  test('a mistyped task id suggests the closest one', () => {
    expect(h.run(['dags', 'test', 'example_pipeline', '2026-01-01', '--run-id', 'r1']).code).toBe(0);
    const r = h.run(['tasks', 'logs', 'example_pipeline', 'r1', 'extrct']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: run 'r1' of DAG 'example_pipeline' has no task 'extrct'; did you mean 'extract'?\n");
    const e = h.run(['cache', 'explain', 'example_pipeline', 'sumarize']);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/has no task 'sumarize'; did you mean 'summarize'\?/);
  });

  test('a dags_folder that does not exist is an error naming it', () => {
    const missing = join(h.home, 'no-such-folder');
    const r = h.run(['dags', 'list'], { AIRFLOW__CORE__DAGS_FOLDER: missing });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: config \\[core\\] dags_folder: folder ${missing} does not exist`));
  });

  test('a bundle path that does not exist is an error naming it', () => {
    const r = h.run(['dags', 'list'], {
      AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: JSON.stringify([{ name: 'a', kwargs: { path: 'nowhere' } }]),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: config \[dag_processor\] dag_bundle_config_list: bundle 'a': folder .*\/nowhere does not exist/,
    );
  });
});

describe('cache list/clear --dag-id', () => {
  const h = new TempHome();
  h.writeDag({ dag_id: 'cached', default_args: { cache: true }, tasks: [bash('a')] });
  h.writeDag({ dag_id: 'gone_later', default_args: { cache: true }, tasks: [bash('a')] });

  test('an unknown DAG is an error, with the closest id', () => {
    const r = h.run(['cache', 'list', '--dag-id', 'cahced']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: DAG 'cahced' is not a loaded DAG and has no cache entries; did you mean 'cached'\?/,
    );
    const c = h.run(['cache', 'clear', '--dag-id', 'nope', '--yes']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/DAG 'nope' is not a loaded DAG and has no cache entries/);
  });

  test('a DAG whose file is gone but whose entries remain is still listed and cleared', () => {
    expect(h.run(['dags', 'test', 'gone_later', '2026-01-01']).code).toBe(0);
    rmSync(join(h.dags, 'gone_later.json'));
    expect(h.json(['cache', 'list', '--dag-id', 'gone_later']).data).toHaveLength(1);
    const r = h.run(['cache', 'clear', '--dag-id', 'gone_later', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Removed 1 cache entry/);
    // A loaded DAG with no entries is fine: an empty listing.
    expect(h.json(['cache', 'list', '--dag-id', 'cached']).data).toEqual([]);
  });
});
