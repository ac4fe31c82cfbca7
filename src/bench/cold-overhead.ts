/**
 * The cold-run overhead of caching, as whole processes: a wide DAG of `bash true` tasks run cold with
 * caching on and with it off, each run in a fresh home. One run of each swings by 10 % or more on a
 * shared 2-core machine, more than the 5 % target, so the runs come in pairs, back to back, the
 * order alternating pair by pair (a machine that slows down or speeds up during the bench weighs on
 * both sides alike), and the figure is the median of the pairs' own differences.
 */
import { makeHome, timeDagsTest } from './process-dags.js';
import { summarise, type ProcessRunner, type RunOutcome } from './process-run.js';
import { median, round } from './stats.js';

export interface ColdOverheadOptions {
  tasks: number;
  /** Pairs of runs (on and off). */
  pairs: number;
  parallelism: number;
}

export interface ColdOverheadReport {
  tasks: number;
  pairs: number;
  /** Medians of the on and off runs. */
  on_ms: number | null;
  off_ms: number | null;
  /** Fastest and slowest run of each side. */
  on_ms_range: [number, number] | null;
  off_ms_range: [number, number] | null;
  /** Each pair's (on − off) / off, %, in the order run. */
  pair_pct: number[];
  /** The median of `pair_pct`: the figure against the target. */
  overhead_pct: number | null;
  /** CPU of the miniflow process (its threads, not the tasks' processes), medians. */
  on_cpu_ms: number | null;
  off_cpu_ms: number | null;
  /** (on − off) CPU / tasks: what caching a miss costs the scheduler process, steadier than wall time. */
  cpu_per_task_ms: number | null;
  target_pct: number;
  ok: boolean;
}

/** Each pair's overhead in %, and their median. */
export function pairedOverhead(pairs: { onMs: number; offMs: number }[]): { pairPct: number[]; pct: number | null } {
  const pairPct = pairs.filter((p) => p.offMs > 0).map((p) => round(((p.onMs - p.offMs) / p.offMs) * 100, 1)!);
  return { pairPct, pct: round(median(pairPct), 1) };
}

/** The order of pair `i`'s two runs (caching on = true): on first in even pairs, off first in odd ones. */
export function pairOrder(pair: number): [boolean, boolean] {
  return pair % 2 === 0 ? [true, false] : [false, true];
}

export function measureColdOverhead(
  runner: ProcessRunner,
  base: string,
  o: ColdOverheadOptions,
  stage: (s: string) => void,
): ColdOverheadReport {
  const n = o.tasks;
  const dag = { shape: 'wide' as const, kind: 'bash' as const, tasks: n, bashCommand: 'true' };
  const on: RunOutcome[] = [];
  const off: RunOutcome[] = [];
  let ok = true;
  const runOne = (caching: boolean, i: number): RunOutcome => {
    const home = makeHome(
      runner,
      { base, parallelism: o.parallelism, name: `overhead_${caching ? 'on' : 'off'}_${i}` },
      dag,
      caching,
    );
    const t = timeDagsTest(runner, home.env, home.dagId, caching ? 'cold' : 'off', n, 1);
    ok &&= t.ok;
    return t.outs[0];
  };
  for (let i = 0; i < o.pairs; i++) {
    stage(`cold overhead ${n} bash (pair ${i + 1}/${o.pairs})`);
    for (const caching of pairOrder(i)) (caching ? on : off).push(runOne(caching, i));
  }
  const { pairPct, pct } = pairedOverhead(on.map((r, i) => ({ onMs: r.wallMs, offMs: off[i].wallMs })));
  const [onS, offS] = [summarise(on), summarise(off)];
  const cpu = onS.cpu_ms !== null && offS.cpu_ms !== null ? round((onS.cpu_ms - offS.cpu_ms) / n, 3) : null;
  return {
    tasks: n,
    pairs: o.pairs,
    on_ms: onS.wall_ms,
    off_ms: offS.wall_ms,
    on_ms_range: onS.wall_ms_range,
    off_ms_range: offS.wall_ms_range,
    pair_pct: pairPct,
    overhead_pct: pct,
    on_cpu_ms: onS.cpu_ms,
    off_cpu_ms: offS.cpu_ms,
    cpu_per_task_ms: cpu,
    target_pct: 5,
    ok,
  };
}
