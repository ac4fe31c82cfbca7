/** The human form of a bench report: one column per operator kind, one row per measure. */
import chalk from 'chalk';
import Table from 'cli-table3';
import type { BenchReport, Distribution, OperatorResult } from './bench.js';
import { renderWholeProcess } from './process-report.js';

type Row = [string, (r: OperatorResult) => string];

const f = (v: number | null, unit = ''): string => (v === null ? '-' : `${v}${unit}`);

const ROWS: Row[] = [
  ['runs ok (disabled, cold all miss, warm all hit)', (r) => (r.ok ? chalk.green('yes') : chalk.red('NO'))],
  [
    'wall time disabled / cold / warm',
    (r) => `${f(r.wall_s.disabled, 's')} / ${f(r.wall_s.cold, 's')} / ${f(r.wall_s.warm, 's')}`,
  ],
  [
    'task instances/s disabled / cold / warm',
    (r) =>
      `${f(r.task_instances_per_s.disabled)} / ${f(r.task_instances_per_s.cold)} / ${f(r.task_instances_per_s.warm)}`,
  ],
  ['child start cost per task', (r) => f(r.child_start_ms_per_task, ' ms')],
  ['scheduler dispatch overhead per task', (r) => f(r.dispatch_overhead_ms_per_task, ' ms')],
  [
    'key + check latency, cold miss p50 / p99',
    (r) => `${f(r.check_latency_ms.cold.p50)} / ${f(r.check_latency_ms.cold.p99, ' ms')}`,
  ],
  [
    'key + check latency, warm hit p50 / p99',
    (r) => `${f(r.check_latency_ms.warm.p50)} / ${f(r.check_latency_ms.warm.p99, ' ms')}`,
  ],
  ['hit cost: scheduler CPU per hit incl. DB writes', (r) => f(r.hit_cost_ms.cpu_per_hit, ' ms')],
  [
    'hit latency under load, ready to committed p50 / p99',
    (r) => `${f(r.hit_cost_ms.p50)} / ${f(r.hit_cost_ms.p99, ' ms')}`,
  ],
  ['warm wall time per task', (r) => f(r.hit_cost_ms.per_task_wall, ' ms')],
  ['cache-enabled miss overhead: scheduler CPU per task', (r) => f(r.miss_overhead_cpu_ms_per_task, ' ms')],
  ['cache-enabled miss overhead: wall per task (noisy)', (r) => f(r.miss_overhead_ms_per_task, ' ms')],
  ['speed-up warm vs disabled', (r) => f(r.speedup_warm_vs_disabled, 'x')],
  [
    'child processes disabled / cold / warm',
    (r) => `${r.executor_submitted.disabled} / ${r.executor_submitted.cold} / ${r.executor_submitted.warm}`,
  ],
  ['peak RSS (after this kind)', (r) => f(r.peak_rss_mb, ' MB')],
];

export function renderBenchReport(report: BenchReport): string {
  const out: string[] = [];
  const o = report.options;
  out.push(
    `miniflow bench: ${o.tasks} tasks, shape ${o.shape}, parallelism ${o.parallelism}, db ${o.db}, backend ${o.backend}; ` +
      `${report.machine.cpus} CPUs (${report.machine.cpu_model}), node ${report.machine.node}`,
  );
  if (report.results.length > 0) {
    const table = new Table({
      head: ['', ...report.results.map((r) => chalk.bold(r.operator))],
      style: { head: [], border: [], compact: true },
    });
    for (const [label, cell] of ROWS) table.push([label, ...report.results.map(cell)]);
    out.push(table.toString());
  }
  const h = report.serial_hit_cost_ms;
  if (h) {
    const d = (x: Distribution) =>
      `p50 ${f(x.p50)}  p90 ${f(x.p90)}  p99 ${f(x.p99)}  max ${f(x.max)}  mean ${f(x.mean)} ms`;
    out.push(
      `Serial hit cost (${h.tasks}-task bash chain, one hit at a time, ready to success committed, DB writes included)${h.ok ? '' : chalk.red(' NOT ALL HITS')}:`,
      `  CPU per hit      ${d(h.cpu_ms)}`,
      `  latency per hit  ${d(h.latency_ms)}`,
      `  ${f(h.hits_per_s)} hits/s; whole-run CPU per hit ${f(h.run_cpu_per_hit_ms, ' ms')}`,
      `Cache-enabled miss overhead (the same chain's cold run: key + lookup before the try, store after it):`,
      `  CPU per miss     ${d(h.miss_overhead_cpu_ms)}`,
      `  latency per miss ${d(h.miss_overhead_latency_ms)}`,
    );
  }
  if (report.loop_scaling.length > 0) {
    const loop = new Table({
      head: ['task instances', 'loop iterations', 'mean loop (ms)', 'p99 loop (ms)', 'wall (s)', 'TI/s'].map((h) =>
        chalk.bold(h),
      ),
      style: { head: [], border: [], compact: true },
    });
    for (const r of report.loop_scaling)
      loop.push(
        [
          r.task_instances,
          r.iterations,
          f(r.mean_loop_ms),
          f(r.p99_loop_ms),
          f(r.wall_s),
          f(r.task_instances_per_s),
        ].map(String),
      );
    out.push(`Scheduler loop time (EmptyOperator, shape ${o.shape}):`);
    out.push(loop.toString());
  }
  const r = report.render;
  const us = (p: { p50: number | null; p99: number | null } | null) =>
    p ? `p50 ${f(p.p50)}  p99 ${f(p.p99)} µs` : 'n/a';
  if (r)
    out.push(
      `Template rendering, µs per rendered field (${r.samples_per_template} samples each; ${r.engine} vs ${r.old_engine ?? 'old engine not installed: npm i --no-save nunjucks'}):`,
      `  all fields  new ${us(r.us_per_field.new)}   old ${us(r.us_per_field.old)}`,
      ...r.templates.map(
        (t) => `  ${t.source.padEnd(38)} new ${us(t.new)}   old ${t.old ? us(t.old) : (t.old_error ?? 'n/a')}`,
      ),
      `  renders sent off the event loop during the bench: ${r.off_loop_renders}`,
    );
  out.push(`Peak memory (max RSS of this process): ${report.peak_rss_mb} MB`);
  if (report.whole_process) out.push(renderWholeProcess(report.whole_process).trimEnd());
  return out.join('\n') + '\n';
}
