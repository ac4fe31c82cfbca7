/**
 * `miniflow dags test` as whole processes: each synthetic DAG in its own AIRFLOW_HOME (its own
 * dags folder and SQLite file, migrated before anything is timed), so a command about one DAG never
 * pays for parsing another's file, and a cold run always starts from an empty cache.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, CLI_BIN, summarise, type ProcessRunner, type RunOutcome, type Sample } from './process-run.js';
import { writeBenchCallables, writeSyntheticDag, type OperatorKind, type Shape } from './synthetic-dag.js';

export type RunMode = 'warm' | 'cold' | 'off';

/** The same logical date every time: a second `dags test` clears and re-runs the same run. */
const LOGICAL_DATE = '2026-01-01';

export interface DagsTestRow {
  operator: OperatorKind;
  shape: Shape;
  tasks: number;
  mode: RunMode;
  /** Every run ended as expected: success; warm every task a hit; cold every task stored; off none. */
  ok: boolean;
  /** Of the last run, read from its printed summary line and table. */
  state: string | null;
  hits: number | null;
  stored: number | null;
  sample: Sample;
  floor_ms: number | null;
  /** What the floor is made of. */
  floor: string;
  x_floor: number | null;
}

export interface HomeSpec {
  base: string;
  name: string;
  parallelism: number;
}

let homeSeq = 0;

/** A fresh AIRFLOW_HOME with one synthetic DAG, migrated (untimed); returns its env and DAG id. */
export function makeHome(
  runner: ProcessRunner,
  h: HomeSpec,
  dag: { shape: Shape; kind: OperatorKind; tasks: number; bashCommand?: string },
  caching: boolean,
): { env: NodeJS.ProcessEnv; dagId: string } {
  // Numbered: the same DAG measured twice (a size that is also --ratio-tasks) gets a fresh home.
  const home = join(h.base, `${homeSeq++}_${h.name}`);
  const dags = join(home, 'dags');
  mkdirSync(dags, { recursive: true });
  writeBenchCallables(dags);
  const dagId = `wp_${dag.kind}_${dag.shape}_${dag.tasks}`;
  writeSyntheticDag(dags, dagId, dag.shape, dag.kind, dag.tasks, { bashCommand: dag.bashCommand });
  const env = homeEnv(home, h.parallelism, caching);
  const m = runner.run(process.execPath, [CLI_BIN, 'db', 'migrate'], env, { node: false });
  if (m.code !== 0) throw new Error(`bench: db migrate in ${home} failed: ${m.stderr}`);
  return { env, dagId };
}

export function homeEnv(home: string, parallelism: number, caching: boolean): NodeJS.ProcessEnv {
  return cleanEnv({
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: join(home, 'dags'),
    AIRFLOW__CORE__PARALLELISM: String(parallelism),
    AIRFLOW__CORE__TASK_CACHING_ENABLED: caching ? 'True' : 'False',
    AIRFLOW__CORE__MULTI_TEAM: 'False',
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: '',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${join(home, 'airflow.db')}`,
  });
}

export interface Parsed {
  state: string | null;
  hits: number | null;
  stored: number;
}

// Colour codes, should a terminal-like environment turn them on.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Reads what the user sees: the table's `miss (stored)` cells and the summary line. */
export function parseDagsTest(stdout: string): Parsed {
  const text = stdout.replace(ANSI, '');
  const m = /DAG run \S+: (\w+); (\d+) of (\d+) task\(s\) served from the cache/.exec(text);
  return {
    state: m ? m[1] : null,
    hits: m ? Number(m[2]) : null,
    stored: (text.match(/miss \(stored\)/g) ?? []).length,
  };
}

function expected(mode: RunMode, tasks: number, p: Parsed, code: number | null): boolean {
  if (code !== 0 || p.state !== 'success') return false;
  if (mode === 'warm') return p.hits === tasks;
  if (mode === 'cold') return p.hits === 0 && p.stored === tasks;
  return p.hits === 0 && p.stored === 0;
}

/** `n` runs of `dags test` in one home; each run's output is checked against the mode. */
export function timeDagsTest(
  runner: ProcessRunner,
  env: NodeJS.ProcessEnv,
  dagId: string,
  mode: RunMode,
  tasks: number,
  n: number,
): Timed {
  const outs: RunOutcome[] = [];
  let ok = true;
  let last: Parsed = { state: null, hits: null, stored: 0 };
  for (let i = 0; i < n; i++) {
    const r = runner.run(process.execPath, [CLI_BIN, 'dags', 'test', dagId, LOGICAL_DATE], env, { node: true });
    last = parseDagsTest(r.stdout);
    if (!expected(mode, tasks, last, r.code)) {
      ok = false;
      process.stderr.write(
        `bench: ${mode} dags test ${dagId} ended unexpectedly (exit ${r.code}, state ${last.state}, hits ${last.hits}, stored ${last.stored}): ${r.stderr.slice(-400)}\n`,
      );
    }
    outs.push(r);
  }
  return { outs, ok, last };
}

interface Timed {
  outs: RunOutcome[];
  ok: boolean;
  last: Parsed;
}

/**
 * Cold (in `coldRuns` fresh homes, the last one kept), then `warmRuns` warm runs in the kept home,
 * then, if asked, `offRuns` runs with caching disabled in that home. Floors are filled in later.
 */
export function measureDag(
  runner: ProcessRunner,
  base: string,
  parallelism: number,
  dag: { shape: Shape; kind: OperatorKind; tasks: number; bashCommand?: string },
  runs: { cold: number; warm: number; off: number },
): DagsTestRow[] {
  const rows: DagsTestRow[] = [];
  const row = (mode: RunMode, t: Timed): DagsTestRow => ({
    operator: dag.kind,
    shape: dag.shape,
    tasks: dag.tasks,
    mode,
    ok: t.ok,
    state: t.last.state,
    hits: t.last.hits,
    stored: t.last.stored,
    sample: summarise(t.outs),
    floor_ms: null,
    floor: '',
    x_floor: null,
  });
  const cold: Timed = { outs: [], ok: true, last: { state: null, hits: null, stored: 0 } };
  let kept: { env: NodeJS.ProcessEnv; dagId: string } | null = null;
  for (let i = 0; i < Math.max(1, runs.cold); i++) {
    const name = `${dag.kind}_${dag.shape}_${dag.tasks}_cold${i}`;
    kept = makeHome(runner, { base, name, parallelism }, dag, true);
    const t = timeDagsTest(runner, kept.env, kept.dagId, 'cold', dag.tasks, 1);
    cold.outs.push(...t.outs);
    cold.ok &&= t.ok;
    cold.last = t.last;
  }
  rows.push(row('cold', cold));
  if (runs.warm > 0) rows.push(row('warm', timeDagsTest(runner, kept!.env, kept!.dagId, 'warm', dag.tasks, runs.warm)));
  if (runs.off > 0) {
    const offEnv = { ...kept!.env, AIRFLOW__CORE__TASK_CACHING_ENABLED: 'False' };
    rows.push(row('off', timeDagsTest(runner, offEnv, kept!.dagId, 'off', dag.tasks, runs.off)));
  }
  return rows;
}
