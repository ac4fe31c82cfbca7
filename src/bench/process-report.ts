/** The human form of the whole-process section: one row per result, its floor and the multiple. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { WholeProcessReport } from './process-bench.js';
import type { Sample } from './process-run.js';

const f = (v: number | null | undefined, unit = ''): string => (v == null ? '-' : `${v}${unit}`);

const range = (s: Sample) => (s.wall_ms_range && s.runs > 1 ? ` (${s.wall_ms_range[0]}–${s.wall_ms_range[1]})` : '');

type Cells = [string, Sample | null, string, string, string, string];

function row([what, s, floorMs, floor, x, check]: Cells): string[] {
  return [
    what,
    s ? `${f(s.wall_ms)}${range(s)}` : '',
    s ? f(s.cpu_ms) : '',
    s ? f(s.peak_rss_mb) : '',
    s ? String(s.runs) : '',
    floorMs,
    floor,
    x,
    check,
  ];
}

export function renderWholeProcess(wp: WholeProcessReport): string {
  const o = wp.options;
  const table = new Table({
    head: [
      'whole process',
      'wall ms (median, range)',
      'CPU ms',
      'peak RSS MB',
      'runs',
      'floor ms',
      'floor',
      '× floor',
      '',
    ].map((h) => chalk.bold(h)),
    style: { head: [], border: [], compact: true },
  });
  const fl = wp.floors;
  const cells: Cells[] = [
    ['node -e 0', fl.node, '', 'floor', '', ''],
    ['python3 -c pass', fl.python3, '', 'floor', '', ''],
    ['bash -c true', fl.bash, '', 'floor', '', ''],
    ...fl.sqlite_hits.map((h): Cells => [
      `raw sqlite: ${h.hits} hits' rows, one transaction`,
      { runs: o.repeat, wall_ms: h.ms, wall_ms_range: null, cpu_ms: null, peak_rss_mb: null },
      '',
      `floor (${f(h.per_hit_ms)} ms/hit)`,
      '',
      '',
    ]),
    ...wp.startup.map((s): Cells => [s.command, s.sample, f(s.floor_ms), s.floor, f(s.x_floor, 'x'), '']),
  ];
  if ('skipped' in wp.launcher) cells.push(['./miniflow --help', null, '', wp.launcher.skipped, '', '']);
  else
    cells.push([
      './miniflow --help',
      wp.launcher.sample,
      '',
      'node bin/miniflow.js --help',
      '',
      `+${f(wp.launcher.overhead_ms, ' ms')}`,
    ]);
  for (const r of wp.dags_test) {
    const what = `dags test ${r.operator} ${r.shape} ${r.tasks} ${r.mode}`;
    const check = r.ok
      ? chalk.green(r.mode === 'warm' ? `${r.hits} hits` : r.mode === 'cold' ? `${r.stored} stored` : 'ok')
      : chalk.red('NOT AS EXPECTED');
    cells.push([what, r.sample, f(r.floor_ms), r.floor, f(r.x_floor, 'x'), check]);
  }
  const out = [
    `Whole process (node bin/miniflow.js as a child, temporary AIRFLOW_HOMEs, SQLite; parallelism ${o.parallelism}, ${wp.slots} slots; ` +
      `CPU and RSS of the miniflow process, not its task children):`,
  ];
  for (const c of cells) table.push(row(c));
  out.push(table.toString());
  const m = wp.marginal_per_hit;
  if (m)
    out.push(
      `  marginal cost per hit, (warm ${m.to_tasks} − warm ${m.from_tasks}) / ${m.to_tasks - m.from_tasks}: ` +
        `${f(m.wall_ms, ' ms')} wall, ${f(m.cpu_ms, ' ms')} CPU; raw sqlite ${f(m.floor_ms, ' ms')}/hit (${f(m.x_floor, 'x')} floor)`,
    );
  const w = wp.warm_vs_off;
  if (w)
    out.push(
      `  warm vs caching off, ${w.tasks} Node tasks: ${f(w.off_ms)} / ${f(w.warm_ms)} ms = ${f(w.ratio, 'x')} (target ≥ ${w.target}x)`,
    );
  const c = wp.cold_overhead;
  if (c) {
    const range = (r: [number, number] | null) => (r && r[0] !== r[1] ? ` (${f(r[0])}–${f(r[1])})` : '');
    out.push(
      `  cold-run overhead, ${c.tasks} bash 'true' tasks, ${c.pairs} pair(s) on/off back to back: caching on ` +
        `${f(c.on_ms)} ms${range(c.on_ms_range)} vs off ${f(c.off_ms)} ms${range(c.off_ms_range)}; ` +
        `median of the pairs ${f(c.overhead_pct, '%')} (each: ${c.pair_pct.map((p) => `${p}%`).join(', ')}; ` +
        `target ≤ ${c.target_pct}%)${c.ok ? '' : chalk.red(' RUNS NOT AS EXPECTED')}`,
      `  scheduler process CPU, same runs: on ${f(c.on_cpu_ms)} ms vs off ${f(c.off_cpu_ms)} ms = ` +
        `${f(c.cpu_per_task_ms, ' ms')} per task for caching its miss`,
    );
  }
  return out.join('\n') + '\n';
}
