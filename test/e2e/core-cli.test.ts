import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, REPO, TempHome } from '../helpers/cli.js';
import { bash, expectOneErrorLine, statesOf } from '../fixtures/e2e-core/dags.js';

describe('dags trigger + scheduler', () => {
  const h = new TempHome();
  h.writeDag({ dag_id: 'pipe', tasks: [bash('a', 'echo {{ dag_run.conf.x }}', ['b']), bash('b', 'echo b')] });

  test('queued runs are run by scheduler --exit-when-idle and listed by dags list-runs', () => {
    expect(h.run(['dags', 'trigger', 'pipe', '--conf', '{"x": 42}', '--run-id', 'r1']).stdout).toContain(
      "Queued run r1 of DAG 'pipe'",
    );
    expect(
      h.run(['dags', 'trigger', 'pipe', '--conf', '{"x": 7}', '--run-id', 'r2', '--logical-date', '2026-01-02']).code,
    ).toBe(0);
    const dup = h.run(['dags', 'trigger', 'pipe', '--run-id', 'r1']);
    expect(dup.code).toBe(1);
    expectOneErrorLine(dup.stderr, /DAG 'pipe' already has a run 'r1'/);

    const queued = h.json(['dags', 'list-runs', 'pipe']);
    expect(queued.data.map((r: any) => [r.run_id, r.state])).toEqual([
      ['r1', 'queued'],
      ['r2', 'queued'],
    ]);
    expect(queued.data[1].logical_date).toBe('2026-01-02T00:00:00.000Z');

    const s = h.run(['scheduler', '--exit-when-idle']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/DAG run r1 of 'pipe' finished: success/);
    const done = h.json(['dags', 'list-runs', 'pipe']);
    expect(done.data.map((r: any) => [r.run_id, r.state])).toEqual([
      ['r1', 'success'],
      ['r2', 'success'],
    ]);
    expect(JSON.parse(h.run(['xcom', 'get', 'pipe', 'r1', 'a']).stdout)).toBe('42');
    expect(JSON.parse(h.run(['xcom', 'get', 'pipe', 'r2', 'a']).stdout)).toBe('7');
    expect(statesOf(h.json(['tasks', 'states-for-dag-run', 'pipe', 'r2']).data)).toEqual({
      a: 'success',
      b: 'success',
    });
  });

  test('scheduler --num-runs stops after that many loops, letting the running try finish', () => {
    h.writeDag({ dag_id: 'single', tasks: [bash('only', 'echo {{ dag_run.conf.x }}')] });
    h.run(['dags', 'trigger', 'single', '--conf', '{"x": 1}', '--run-id', 's1']);
    const one = h.run(['scheduler', '--num-runs', '1']);
    expect(one.code).toBe(0);
    expect(one.stderr).toBe('');
    expect(one.stdout).toContain('task only: success');
    expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
    expect(h.json(['dags', 'list-runs', 'single']).data[0].state).toBe('success');
    expect(h.run(['scheduler', '--num-runs', 'x']).stderr).toMatch(/^error: --num-runs must be a whole number >= 1/);
  });

  test('the table forms', () => {
    expect(h.run(['dags', 'list-runs', 'pipe']).stdout).toMatch(/r1\s+│ success/);
    expect(h.run(['dags', 'list']).stdout).toContain('pipe');
  });
});

describe('exit codes and one-line errors', () => {
  const h = new TempHome();
  h.writeDag({ dag_id: 'ok', tasks: [bash('t', 'echo fine')] });
  h.writeDag({ dag_id: 'fails', tasks: [bash('t', 'exit 1', [], { retries: 0 })] });

  test('0 only when the run succeeded', () => {
    expect(h.run(['dags', 'test', 'ok', '2026-01-01']).code).toBe(0);
    const failed = h.run(['dags', 'test', 'fails', '2026-01-01']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/DAG run manual__2026-01-01T00:00:00\+00:00: failed/);
  });

  test.each([
    ['unknown DAG (test)', ['dags', 'test', 'nope', '2026-01-01'], {}, /DAG 'nope' not found/],
    ['unknown DAG (trigger)', ['dags', 'trigger', 'nope'], {}, /DAG 'nope' not found/],
    ['unknown DAG (list-runs)', ['dags', 'list-runs', 'nope'], {}, /DAG 'nope' not found/],
    ['bad --conf JSON', ['dags', 'test', 'ok', '--conf', '{bad'], {}, /--conf is not valid JSON/],
    ['--conf not an object', ['dags', 'trigger', 'ok', '--conf', '[1]'], {}, /--conf must be a JSON object/],
    [
      'bad logical date',
      ['dags', 'test', 'ok', 'yesterday'],
      {},
      /logical_date 'yesterday' is not in an accepted form: use YYYY-MM-DD/,
    ],
    ['unknown run', ['tasks', 'states-for-dag-run', 'ok', 'no_such_run'], {}, /DAG 'ok' has no run 'no_such_run'/],
    [
      'unknown task in xcom get',
      ['xcom', 'get', 'ok', 'manual__2026-01-01T00:00:00+00:00', 'ghost'],
      {},
      /has no task 'ghost'/,
    ],
    [
      'bad config value',
      ['dags', 'list'],
      { AIRFLOW__CORE__PARALLELISM: 'zero' },
      /\[core\] parallelism.*'zero'.*AIRFLOW__CORE__PARALLELISM/,
    ],
    ['unknown config key', ['config', 'get-value', 'core', 'nope'], {}, /\[core\] nope: is not a known option/],
    ['bad --output', ['dags', 'list', '-o', 'yaml'], {}, /--output must be 'table' or 'json'/],
  ] as [string, string[], Record<string, string>, RegExp][])(
    '%s: exit 1, one error line',
    (_name, args, env, detail) => {
      const r = h.run(args, env);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.stderr, detail);
      expect(r.stdout).toBe('');
    },
  );
});

describe('config and db', () => {
  const h = new TempHome();

  test('config get-value: default, airflow.cfg, then AIRFLOW__SECTION__KEY', () => {
    expect(h.run(['config', 'get-value', 'core', 'parallelism']).stdout.trim()).toMatch(/^\d+$/);
    h.write('airflow.cfg', '[core]\nparallelism = 7\n');
    expect(h.run(['config', 'get-value', 'core', 'parallelism']).stdout).toBe('7\n');
    expect(h.run(['config', 'get-value', 'core', 'parallelism'], { AIRFLOW__CORE__PARALLELISM: '3' }).stdout).toBe(
      '3\n',
    );
    h.write('airflow.cfg', '[core]\nparallelism = -2\n');
    const bad = h.run(['config', 'get-value', 'core', 'parallelism']);
    expect(bad.code).toBe(1);
    expectOneErrorLine(bad.stderr, /\[core\] parallelism/);
    h.write('airflow.cfg', '');
  });

  test('db migrate creates the SQLite file under AIRFLOW_HOME and is idempotent', () => {
    const first = h.run(['db', 'migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Database migrated \(sqlite\); applied: CoreTables/);
    expect(existsSync(join(h.home, 'airflow.db'))).toBe(true);
    expect(h.run(['db', 'migrate']).stdout).toBe(first.stdout);
  });
});

describe('the child environment', () => {
  const h = new TempHome();
  const secret = 's3cr3t-db-password';
  const conn = `sqlite:///${join(h.home, `meta-${secret}.db`)}`;

  test("a bash task sees its declared env and none of the scheduler's AIRFLOW__ settings", () => {
    h.writeDag({
      dag_id: 'envdag',
      tasks: [bash('show_env', 'env; echo END', [], { env: { DECLARED: 'from-the-dag' } })],
    });
    const env = { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: conn, AIRFLOW__CORE__PARALLELISM: '2' };
    expect(h.run(['dags', 'trigger', 'envdag', '--run-id', 'e1'], env).code).toBe(0);
    expect(h.run(['scheduler', '--exit-when-idle'], env).code).toBe(0);
    expect(existsSync(join(h.home, `meta-${secret}.db`))).toBe(true);
    const log = h.run(['tasks', 'logs', 'envdag', 'e1', 'show_env'], env);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('DECLARED=from-the-dag');
    expect(log.stdout).toContain('AIRFLOW_CTX_TASK_ID=show_env');
    expect(log.stdout).toContain('END');
    // The log header names the command, not the environment: the secret must be nowhere.
    expect(log.stdout).not.toContain(secret);
    expect(log.stdout).not.toMatch(/AIRFLOW__/);
  });
});

describe('colour', () => {
  const h = new TempHome();
  h.writeDag({ dag_id: 'c', tasks: [bash('ok', 'echo ok'), bash('bad', 'exit 1', [], { retries: 0 })] });
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), where chalk would colour. */
  const onTty = (args: string[], env: Record<string, string>) => {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // A minimal environment: a CI runner's own variables (CI, FORCE_COLOR=0, TERM=dumb, NO_COLOR)
    // make chalk plain even on a terminal, which is right for users but not what this test asks.
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? h.home,
    };
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      cwd: REPO,
      env: { ...base, AIRFLOW_HOME: h.home, TERM: 'xterm-256color', ...env },
      encoding: 'utf8',
    });
    return r.stdout;
  };
  const hasScript = spawnSync('script', ['--version']).status === 0;
  const ESC = '\u001b[';

  (hasScript ? test : test.skip)('a terminal gets colours; NO_COLOR removes every ANSI escape', () => {
    const coloured = onTty(['dags', 'test', 'c', '2026-01-01'], {});
    expect(coloured).toContain(ESC);
    const plain = onTty(['dags', 'test', 'c', '2026-01-02'], { NO_COLOR: '1' });
    expect(plain).toContain('DAG run manual__2026-01-02T00:00:00+00:00: failed');
    expect(plain).not.toContain(ESC);
    const states = onTty(['tasks', 'states-for-dag-run', 'c', 'manual__2026-01-02T00:00:00+00:00'], { NO_COLOR: '1' });
    expect(states).toContain('success');
    expect(states).not.toContain(ESC);
  });
});
