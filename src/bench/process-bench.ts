/**
 * The whole-process section of `miniflow bench`: what a user waits for (`node bin/miniflow.js ...`
 * as a child process, against temporary AIRFLOW_HOMEs with real SQLite files), and beside each
 * result the floor on the same machine in the same run: the bare start of `node`, `python3` and
 * `bash`, and a raw node-sqlite3 loop writing the rows a warm run writes. Each result is printed
 * as a multiple of its floor.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureColdOverhead, type ColdOverheadReport } from './cold-overhead.js';
import { homeEnv, measureDag, type DagsTestRow } from './process-dags.js';
import { CLI_BIN, cleanEnv, ProcessRunner, REPO_ROOT, type Sample } from './process-run.js';
import { sqliteFloor, type SqliteFloorRow } from './sqlite-floor.js';
import { round } from './stats.js';
import { writeSyntheticDag } from './synthetic-dag.js';

export interface WholeProcessOptions {
  /** Task counts of the wide Node DAGs (cold, then warm; off up to offMax). */
  sizes: number[];
  /** Runs per warm measure, start-up and floor (median reported). */
  repeat: number;
  /** Runs per cold and caching-off measure (each cold run needs a fresh home; these are slow). */
  slowRepeat: number;
  /** Caching-off runs only for sizes up to this (10,000 Node spawns take minutes). */
  offMax: number;
  /** Sizes from this up also get a layered diamond (cold to prime it, then warm). */
  diamondFrom: number;
  /** Warm vs caching-off ratio on a wide Node DAG of this many tasks; 0 skips. */
  ratioTasks: number;
  /** Cold-run overhead, caching on vs off, on a wide DAG of this many `true` bash tasks; 0 skips. */
  overheadTasks: number;
  /** Pairs of cold-overhead runs (on and off, back to back, the order alternating). */
  overheadRepeat: number;
  parallelism: number;
  keepHome: boolean;
}

export interface StartupRow {
  command: string;
  sample: Sample;
  floor_ms: number | null;
  floor: string;
  x_floor: number | null;
}

export interface WholeProcessReport {
  options: Omit<WholeProcessOptions, 'keepHome'>;
  airflow_homes: string | null;
  /** Executor slots a cold run can fill at once: min(parallelism, CPUs). */
  slots: number;
  floors: {
    node: Sample;
    python3: Sample;
    bash: Sample;
    /** The raw-SQLite write of N hits' rows in one transaction. */
    sqlite_hits: SqliteFloorRow[];
  };
  startup: StartupRow[];
  /** `./miniflow --help` against `node bin/miniflow.js --help`; skipped when there is no launcher. */
  launcher: { sample: Sample; overhead_ms: number | null } | { skipped: string };
  dags_test: DagsTestRow[];
  /** (warm largest − warm smallest) / (largest − smallest), wide Node DAGs. */
  marginal_per_hit: {
    from_tasks: number;
    to_tasks: number;
    wall_ms: number | null;
    cpu_ms: number | null;
    floor_ms: number | null;
    x_floor: number | null;
  } | null;
  warm_vs_off: {
    tasks: number;
    warm_ms: number | null;
    off_ms: number | null;
    ratio: number | null;
    target: number;
  } | null;
  cold_overhead: ColdOverheadReport | null;
  ok: boolean;
}

export interface WholeProcessHooks {
  onStage?: (label: string) => void;
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b <= 0 ? null : round(a / b, 2);

export async function runWholeProcess(
  o: WholeProcessOptions,
  hooks: WholeProcessHooks = {},
): Promise<WholeProcessReport> {
  const base = mkdtempSync(join(tmpdir(), 'miniflow-bench-wp-'));
  const runner = new ProcessRunner();
  const stage = (s: string) => hooks.onStage?.(s);
  const slots = Math.max(1, Math.min(o.parallelism, availableParallelism()));
  try {
    stage('floors: process start');
    const bare = cleanEnv({});
    // One unmeasured start of each first: the first pays for cold page cache.
    runner.run(process.execPath, ['-e', '0'], bare, { node: true });
    const node = runner.sample(o.repeat, process.execPath, ['-e', '0'], bare, { node: true });
    const python3 = runner.sample(o.repeat, 'python3', ['-c', 'pass'], bare, { node: false });
    const bash = runner.sample(o.repeat, 'bash', ['-c', 'true'], bare, { node: false });

    stage('floors: raw sqlite');
    const floorHome = join(base, 'sqlite_floor');
    mkdirSync(floorHome, { recursive: true });
    const migrated = runner.run(process.execPath, [CLI_BIN, 'db', 'migrate'], homeEnv(floorHome, o.parallelism, true), {
      node: false,
    });
    if (migrated.code !== 0) throw new Error(`bench: db migrate for the sqlite floor failed: ${migrated.stderr}`);
    const hitCounts = [...new Set([1, ...o.sizes, 1000, 10_000, ...(o.ratioTasks > 0 ? [o.ratioTasks] : [])])].sort(
      (a, b) => a - b,
    );
    const sqliteHits = await sqliteFloor(join(floorHome, 'airflow.db'), hitCounts, o.repeat);
    const sqliteMs = (n: number) => sqliteHits.find((r) => r.hits === n)?.ms ?? null;

    stage('start-up');
    const startup = measureStartup(runner, base, o, node);
    const launcher = measureLauncher(runner, o, startup[0]?.sample ?? null);

    const rows: DagsTestRow[] = [];
    for (const n of o.sizes) {
      stage(`dags test wide ${n}`);
      rows.push(
        ...measureDag(
          runner,
          base,
          o.parallelism,
          { shape: 'wide', kind: 'node', tasks: n },
          {
            cold: o.slowRepeat,
            warm: o.repeat,
            off: n <= o.offMax ? o.slowRepeat : 0,
          },
        ),
      );
      if (n >= o.diamondFrom && n > 1) {
        stage(`dags test diamond ${n}`);
        rows.push(
          ...measureDag(
            runner,
            base,
            o.parallelism,
            { shape: 'diamond', kind: 'node', tasks: n },
            {
              cold: 1,
              warm: o.repeat,
              off: 0,
            },
          ),
        );
      }
    }
    let warmVsOff: WholeProcessReport['warm_vs_off'] = null;
    if (o.ratioTasks > 0) {
      stage(`warm vs off ${o.ratioTasks}`);
      const r = measureDag(
        runner,
        base,
        o.parallelism,
        { shape: 'wide', kind: 'node', tasks: o.ratioTasks },
        {
          cold: 1,
          warm: o.repeat,
          off: o.slowRepeat,
        },
      );
      rows.push(...r);
      const warm = r.find((x) => x.mode === 'warm')?.sample.wall_ms;
      const off = r.find((x) => x.mode === 'off')?.sample.wall_ms;
      warmVsOff = {
        tasks: o.ratioTasks,
        warm_ms: warm ?? null,
        off_ms: off ?? null,
        ratio: ratio(off, warm),
        target: 30,
      };
    }
    const coldOverhead =
      o.overheadTasks > 0
        ? measureColdOverhead(
            runner,
            base,
            { tasks: o.overheadTasks, pairs: o.overheadRepeat, parallelism: o.parallelism },
            stage,
          )
        : null;

    for (const r of rows) setFloor(r, node.wall_ms, bash.wall_ms, sqliteMs(r.tasks), slots);
    const { keepHome: _k, ...shown } = o;
    return {
      options: shown,
      airflow_homes: o.keepHome ? base : null,
      slots,
      floors: { node, python3, bash, sqlite_hits: sqliteHits },
      startup,
      launcher,
      dags_test: rows,
      marginal_per_hit: marginal(rows, sqliteMs),
      warm_vs_off: warmVsOff,
      cold_overhead: coldOverhead,
      ok: rows.every((r) => r.ok) && (coldOverhead?.ok ?? true),
    };
  } finally {
    runner.close();
    if (!o.keepHome) rmSync(base, { recursive: true, force: true });
  }
}

/** `--help`, `config get-value core parallelism` and `dags list` over 10 small DAGs, against `node -e 0`. */
function measureStartup(runner: ProcessRunner, base: string, o: WholeProcessOptions, node: Sample): StartupRow[] {
  const home = join(base, 'startup');
  const dags = join(home, 'dags');
  mkdirSync(dags, { recursive: true });
  for (let i = 0; i < 10; i++) writeSyntheticDag(dags, `wp_list_${i}`, 'wide', 'empty', 10);
  const env = homeEnv(home, o.parallelism, true);
  const commands = [['--help'], ['config', 'get-value', 'core', 'parallelism'], ['dags', 'list']];
  return commands.map((args) => {
    // Unmeasured first run: migrates the home's DB (dags list) and warms the page cache.
    runner.run(process.execPath, [CLI_BIN, ...args], env, { node: true });
    const sample = runner.sample(o.repeat, process.execPath, [CLI_BIN, ...args], env, { node: true }, (r) => {
      if (r.code !== 0) throw new Error(`bench: miniflow ${args.join(' ')} failed: ${r.stderr}`);
    });
    return {
      command: `miniflow ${args.join(' ')}${args[0] === 'dags' ? ' (10 DAGs)' : ''}`,
      sample,
      floor_ms: node.wall_ms,
      floor: 'node -e 0',
      x_floor: ratio(sample.wall_ms, node.wall_ms),
    };
  });
}

function measureLauncher(
  runner: ProcessRunner,
  o: WholeProcessOptions,
  help: Sample | null,
): WholeProcessReport['launcher'] {
  const launcher = join(REPO_ROOT, 'miniflow');
  if (!existsSync(launcher)) return { skipped: `no ./miniflow launcher at ${REPO_ROOT}` };
  const env = cleanEnv({});
  runner.run(launcher, ['--help'], env, { node: true });
  const sample = runner.sample(o.repeat, launcher, ['--help'], env, { node: true });
  const overhead = sample.wall_ms !== null && help?.wall_ms != null ? round(sample.wall_ms - help.wall_ms, 1) : null;
  return { sample, overhead_ms: overhead };
}

/**
 * Warm: one Node start plus the raw write of its hits. Cold and off: one Node start for miniflow
 * plus one per task, `slots` at a time (the children's starts alone; the task does nothing).
 */
function setFloor(r: DagsTestRow, nodeMs: number | null, bashMs: number | null, sqlMs: number | null, slots: number) {
  if (nodeMs === null) return;
  if (r.mode === 'warm') {
    if (sqlMs === null) return;
    r.floor_ms = round(nodeMs + sqlMs, 1);
    r.floor = `node start + raw sqlite write of ${r.tasks} hits`;
  } else {
    const child = r.operator === 'bash' ? bashMs : nodeMs;
    if (child === null) return;
    r.floor_ms = round(nodeMs + (child * r.tasks) / slots, 1);
    r.floor = `node start + ${r.tasks} ${r.operator} starts / ${slots} slots`;
  }
  r.x_floor = ratio(r.sample.wall_ms, r.floor_ms);
}

function marginal(rows: DagsTestRow[], sqliteMs: (n: number) => number | null): WholeProcessReport['marginal_per_hit'] {
  const warm = rows.filter((r) => r.mode === 'warm' && r.shape === 'wide' && r.operator === 'node');
  if (warm.length < 2) return null;
  const lo = warm.reduce((a, b) => (b.tasks < a.tasks ? b : a));
  const hi = warm.reduce((a, b) => (b.tasks > a.tasks ? b : a));
  const span = hi.tasks - lo.tasks;
  if (span <= 0) return null;
  const per = (a: number | null, b: number | null) => (a === null || b === null ? null : round((a - b) / span, 4));
  const wall = per(hi.sample.wall_ms, lo.sample.wall_ms);
  const floor = per(sqliteMs(hi.tasks), sqliteMs(lo.tasks));
  return {
    from_tasks: lo.tasks,
    to_tasks: hi.tasks,
    wall_ms: wall,
    cpu_ms: per(hi.sample.cpu_ms, lo.sample.cpu_ms),
    floor_ms: floor,
    x_floor: ratio(wall, floor),
  };
}
