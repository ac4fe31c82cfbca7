import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../../src/bench/stats.js';
import { BIN, REPO, TempHome } from '../helpers/cli.js';

const positive = (v: unknown) => {
  expect(typeof v).toBe('number');
  expect(v as number).toBeGreaterThan(0);
};

/** Structure and sanity only (numbers present and positive, runs as expected), never speed. */
describe('miniflow bench: the whole-process section', () => {
  const h = new TempHome();
  let report: any;
  let homes: string;

  beforeAll(() => {
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'bench',
        '--no-in-process',
        '--process-sizes',
        '1,3',
        '--repeat',
        '1',
        '--ratio-tasks',
        '2',
        '--overhead-tasks',
        '3',
        '--overhead-repeat',
        '2',
        '--diamond-from',
        '3',
        '--keep-home',
        '-o',
        'json',
      ],
      { cwd: REPO, env: { ...process.env, ...h.env }, encoding: 'utf8', timeout: 600_000 },
    );
    if (r.status !== 0) throw new Error(`bench exit ${r.status}:\n${r.stdout}\n${r.stderr}`);
    report = JSON.parse(r.stdout);
    homes = report.whole_process.airflow_homes;
  }, 620_000);

  afterAll(() => {
    if (homes) rmSync(homes, { recursive: true, force: true });
  });

  test('floors: process starts and the raw sqlite write, each measured', () => {
    const wp = report.whole_process;
    expect(report.results).toEqual([]);
    expect(report.render).toBeNull();
    expect(wp.ok).toBe(true);
    for (const f of [wp.floors.node, wp.floors.python3, wp.floors.bash]) {
      expect(f.runs).toBe(1);
      positive(f.wall_ms);
    }
    positive(wp.floors.node.cpu_ms);
    positive(wp.floors.node.peak_rss_mb);
    expect(wp.floors.sqlite_hits.map((x: any) => x.hits)).toEqual([1, 2, 3, 1000, 10000]);
    for (const x of wp.floors.sqlite_hits) {
      positive(x.ms);
      positive(x.per_hit_ms);
    }
  });

  test('start-up commands against node -e 0; the launcher measured or skipped with a reason', () => {
    const wp = report.whole_process;
    expect(wp.startup.map((s: any) => s.command)).toEqual([
      'miniflow --help',
      'miniflow config get-value core parallelism',
      'miniflow dags list (10 DAGs)',
    ]);
    for (const s of wp.startup) {
      positive(s.sample.wall_ms);
      positive(s.sample.cpu_ms);
      positive(s.sample.peak_rss_mb);
      expect(s.floor_ms).toBe(wp.floors.node.wall_ms);
      positive(s.x_floor);
    }
    if ('skipped' in wp.launcher) expect(wp.launcher.skipped).toMatch(/no \.\/miniflow launcher/);
    else positive(wp.launcher.sample.wall_ms);
  });

  test('dags test: cold stores every task, warm hits every task, off runs them all; each beside its floor', () => {
    const wp = report.whole_process;
    const rows = wp.dags_test.map((r: any) => `${r.shape} ${r.tasks} ${r.mode}`);
    expect(rows).toEqual([
      'wide 1 cold',
      'wide 1 warm',
      'wide 1 off',
      'wide 3 cold',
      'wide 3 warm',
      'wide 3 off',
      'diamond 3 cold',
      'diamond 3 warm',
      'wide 2 cold',
      'wide 2 warm',
      'wide 2 off',
    ]);
    for (const r of wp.dags_test) {
      expect(r).toMatchObject({ operator: 'node', ok: true, state: 'success' });
      if (r.mode === 'warm') expect({ hits: r.hits, stored: r.stored }).toEqual({ hits: r.tasks, stored: 0 });
      if (r.mode === 'cold') expect({ hits: r.hits, stored: r.stored }).toEqual({ hits: 0, stored: r.tasks });
      if (r.mode === 'off') expect({ hits: r.hits, stored: r.stored }).toEqual({ hits: 0, stored: 0 });
      positive(r.sample.wall_ms);
      positive(r.sample.cpu_ms);
      positive(r.sample.peak_rss_mb);
      positive(r.floor_ms);
      positive(r.x_floor);
      expect(r.floor).toMatch(r.mode === 'warm' ? /raw sqlite write of \d+ hits/ : /node starts/);
    }
    expect(wp.marginal_per_hit).toMatchObject({ from_tasks: 1, to_tasks: 3 });
    for (const k of ['wall_ms', 'cpu_ms', 'floor_ms']) expect(typeof wp.marginal_per_hit[k]).toBe('number');
    expect(wp.warm_vs_off).toMatchObject({ tasks: 2, target: 30 });
    positive(wp.warm_vs_off.ratio);
    expect(wp.cold_overhead).toMatchObject({ tasks: 3, pairs: 2, target_pct: 5, ok: true });
    // Two pairs: the figure is the mean of the two pairs' own differences.
    expect(wp.cold_overhead.pair_pct).toHaveLength(2);
    const [a, b] = wp.cold_overhead.pair_pct;
    expect(wp.cold_overhead.overhead_pct).toBe(round((a + b) / 2, 1));
    positive(wp.cold_overhead.on_ms);
    positive(wp.cold_overhead.off_ms);
    positive(wp.cold_overhead.on_cpu_ms);
    positive(wp.cold_overhead.off_cpu_ms);
    expect(typeof wp.cold_overhead.cpu_per_task_ms).toBe('number');
    const [lo, hi] = wp.cold_overhead.on_ms_range;
    expect(lo).toBeLessThanOrEqual(wp.cold_overhead.on_ms);
    expect(hi).toBeGreaterThanOrEqual(wp.cold_overhead.on_ms);
  });

  test('the warm run really hit: the metadata DB it wrote counts one hit per task, and no extra miss', () => {
    // Home names: <n>_<kind>_<shape>_<tasks>_cold<i>; the wide 3 home holds cold, warm (1 run) and off.
    const warmHome = readdirSync(homes).find((d) => /^\d+_node_wide_3_cold0$/.test(d))!;
    const home = join(homes, warmHome);
    const r = spawnSync(process.execPath, [BIN, 'cache', 'stats', '-o', 'json'], {
      cwd: REPO,
      env: {
        ...process.env,
        NO_COLOR: '1',
        AIRFLOW_HOME: home,
        AIRFLOW__CORE__DAGS_FOLDER: join(home, 'dags'),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${join(home, 'airflow.db')}`,
      },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).overall).toMatchObject({ hits: 3, misses: 3, entries: 3 });
  });

  test('whole-process options are validated with a message naming the option', () => {
    const r = h.run(['bench', '--no-in-process', '--process-sizes', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--process-sizes/);
    const big = h.run(['bench', '--no-in-process', '--process-sizes', '100001']);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/--process-sizes is at most 100000/);
  });
});
