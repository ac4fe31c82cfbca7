/**
 * Whole-process measurement for `miniflow bench`: run a command as a child, as a user would, and
 * read its wall time, CPU and peak memory.
 *
 * Wall time is the parent's monotonic clock around the child (spawn to exit). CPU and peak RSS of
 * a Node child come from the child itself: a preload module (`--import`, passed in NODE_OPTIONS so a
 * launcher script's `node` gets it too) writes `process.resourceUsage()` at exit, which is the
 * child's user + system time over all its threads (SQLite's thread pool included) and its maxRSS.
 * Portable (no `/usr/bin/time`), and exact on Linux: no racy read of /proc at exit. What it leaves
 * out: the CPU of the child's own children (the task processes of a cold run). Non-Node commands
 * (`bash`, `python3`) get wall time only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, round } from './stats.js';

/** The repository root: this file is dist/src/bench/process-run.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI_BIN = join(REPO_ROOT, 'bin', 'miniflow.js');

const RUSAGE_ENV = 'MINIFLOW_BENCH_RUSAGE';

/**
 * The preload: only the process that finds the variable reports (it deletes the variable and its
 * own --import at once, so task children neither report nor pay for the preload).
 */
const PRELOAD = `import { writeFileSync } from 'node:fs';
const out = process.env.${RUSAGE_ENV};
delete process.env.${RUSAGE_ENV};
if (process.env.NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/--import=\\S*bench-rusage\\.mjs/, '').trim();
if (out) process.on('exit', () => writeFileSync(out, JSON.stringify(process.resourceUsage())));
`;

export interface RunOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** user + system CPU of the (Node) process, ms; null for non-Node commands. */
  cpuMs: number | null;
  peakRssMb: number | null;
}

/** Median figures of repeated runs of one command. */
export interface Sample {
  runs: number;
  wall_ms: number | null;
  /** Lowest and highest wall time of the runs: the spread on a shared machine. */
  wall_ms_range: [number, number] | null;
  cpu_ms: number | null;
  peak_rss_mb: number | null;
}

export class ProcessRunner {
  private readonly dir = mkdtempSync(join(tmpdir(), 'miniflow-bench-rusage-'));
  private readonly preload = join(this.dir, 'bench-rusage.mjs');
  private seq = 0;

  constructor() {
    writeFileSync(this.preload, PRELOAD);
  }

  /**
   * Runs `cmd args` to exit. `node: true` measures CPU and RSS through the preload (any `node` the
   * command starts first reports, e.g. a launcher script's).
   */
  run(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { node: boolean; cwd?: string }): RunOutcome {
    const report = join(this.dir, `run-${this.seq++}.json`);
    const childEnv = { ...env };
    if (opts.node) {
      childEnv[RUSAGE_ENV] = report;
      childEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(this.preload).href}`.trim();
    }
    const start = performance.now();
    const r = spawnSync(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv,
      encoding: 'utf8',
      // A 10,000-task `dags test` prints a 10,000-row table.
      maxBuffer: 512 * 1024 * 1024,
    });
    const wallMs = performance.now() - start;
    let cpuMs: number | null = null;
    let peakRssMb: number | null = null;
    if (opts.node && existsSync(report)) {
      const u = JSON.parse(readFileSync(report, 'utf8')) as NodeJS.ResourceUsage;
      cpuMs = (u.userCPUTime + u.systemCPUTime) / 1000;
      peakRssMb = u.maxRSS / 1024;
      rmSync(report, { force: true });
    }
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, wallMs, cpuMs, peakRssMb };
  }

  /** `n` runs of the same command; medians. `check` sees each outcome (and may throw or record). */
  sample(
    n: number,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    opts: { node: boolean; cwd?: string },
    check?: (r: RunOutcome) => void,
  ): Sample {
    const outs: RunOutcome[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.run(cmd, args, env, opts);
      check?.(r);
      outs.push(r);
    }
    return summarise(outs);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function summarise(outs: RunOutcome[]): Sample {
  const wall = outs.map((o) => o.wallMs);
  const cpu = outs.flatMap((o) => (o.cpuMs === null ? [] : [o.cpuMs]));
  const rss = outs.flatMap((o) => (o.peakRssMb === null ? [] : [o.peakRssMb]));
  return {
    runs: outs.length,
    wall_ms: round(median(wall), 1),
    wall_ms_range: wall.length > 0 ? [round(Math.min(...wall), 1)!, round(Math.max(...wall), 1)!] : null,
    cpu_ms: round(median(cpu), 1),
    peak_rss_mb: round(median(rss), 1),
  };
}

/** The parent's environment without the developer's AIRFLOW__/MINIFLOW_ settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('AIRFLOW') && !k.startsWith('MINIFLOW_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}
