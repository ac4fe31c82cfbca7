import { TempHome } from '../helpers/cli.js';

const num = expect.any(Number);
/** Present for every kind; null only where nothing was measured (an EmptyOperator is never cache-checked). */
const percentiles = (v: any) => {
  expect(Object.keys(v).sort()).toEqual(['p50', 'p99']);
  for (const x of [v.p50, v.p99]) expect(x === null || typeof x === 'number').toBe(true);
};

describe('miniflow bench -o json', () => {
  const h = new TempHome();

  test('reports every documented field per operator kind, plus loop scaling and peak memory (structure only, never speed)', () => {
    const r = h.json([
      'bench',
      '--tasks',
      '20',
      '--operator',
      'bash,empty',
      '--loop-sizes',
      '10,30',
      '--hit-probe',
      '15',
      '--no-whole-process',
    ]);
    expect(r.code).toBe(0);
    const report = r.data;
    expect(report.options).toMatchObject({
      tasks: 20,
      shape: 'diamond',
      operators: ['bash', 'empty'],
      parallelism: 4,
      db: 'sqlite',
      backend: 'metadata_db',
    });
    expect(report.machine).toEqual({
      cpus: num,
      cpu_model: expect.any(String),
      node: expect.any(String),
      platform: expect.any(String),
    });
    expect(report.results.map((x: any) => x.operator)).toEqual(['bash', 'empty']);
    for (const res of report.results) {
      expect(res.ok).toBe(true);
      for (const phase of ['disabled', 'cold', 'warm']) {
        expect(res.wall_s[phase]).toEqual(num);
        expect(res.task_instances_per_s[phase]).toEqual(num);
      }
      expect(res.child_start_ms_per_task).toEqual(num);
      expect(res.dispatch_overhead_ms_per_task).toEqual(num);
      expect(res.hit_cost_ms.per_task_wall).toEqual(num);
      expect(res.miss_overhead_ms_per_task).toEqual(num);
      expect(res.speedup_warm_vs_disabled).toEqual(num);
      expect(res.peak_rss_mb).toEqual(num);
      percentiles(res.check_latency_ms.cold);
      percentiles(res.check_latency_ms.warm);
    }
    const bash = report.results[0];
    // The cached kind: cold all miss and stored, warm all hit with no child process.
    expect(bash.decisions.cold).toEqual({ miss: 20 });
    expect(bash.decisions.warm).toEqual({ hit: 20 });
    expect(bash.executor_submitted).toEqual({ disabled: 20, cold: 20, warm: 0 });
    for (const p of [bash.check_latency_ms.cold, bash.check_latency_ms.warm, bash.hit_cost_ms]) {
      expect(p.p50).toEqual(num);
      expect(p.p99).toEqual(num);
    }
    expect(bash.child_start_ms_per_task).toBeGreaterThan(0);
    // The serial probe: every task of the chain a hit, one cost measured per hit.
    const dist = { mean: num, p50: num, p90: num, p99: num, max: num };
    expect(report.serial_hit_cost_ms).toEqual({
      tasks: 15,
      ok: true,
      hits: 15,
      latency_ms: dist,
      cpu_ms: dist,
      run_cpu_per_hit_ms: num,
      hits_per_s: num,
      miss_overhead_latency_ms: dist,
      miss_overhead_cpu_ms: dist,
    });
    const s = report.serial_hit_cost_ms;
    for (const d of [s.latency_ms, s.cpu_ms, s.miss_overhead_latency_ms, s.miss_overhead_cpu_ms]) {
      expect(d.p50).toBeLessThanOrEqual(d.p99);
      expect(d.p99).toBeLessThanOrEqual(d.max);
    }
    expect(report.loop_scaling.map((l: any) => l.task_instances)).toEqual([10, 30]);
    for (const l of report.loop_scaling) {
      expect(l).toEqual({
        task_instances: num,
        iterations: num,
        mean_loop_ms: num,
        p99_loop_ms: num,
        wall_s: num,
        task_instances_per_s: num,
      });
    }
    // Template rendering per field, this engine against nunjucks (a devDependency, so installed here).
    const render = report.render;
    expect(render).toMatchObject({ samples_per_template: num, engine: expect.any(String), old_engine: 'nunjucks' });
    percentiles(render.us_per_field.new);
    percentiles(render.us_per_field.old);
    expect(render.templates.map((t: any) => t.source)).toEqual([
      'echo {{ ds }}',
      '{{ params.source }}',
      "{{ ti.xcom_pull(task_ids='extract') }}",
      "{{ dag_run.conf.get('x', 'y') }}",
      'python train.py --epochs 3',
    ]);
    for (const t of render.templates) {
      expect(t.new).toEqual({ p50: num, p99: num });
      expect(t.old === null ? t.old_error : t.old).toEqual(
        t.old === null ? expect.any(String) : { p50: num, p99: num },
      );
    }
    // The old engine cannot call dict methods: the reason the issue was filed.
    expect(render.templates[3]).toMatchObject({ old: null, old_error: expect.stringMatching(/Unable to call/) });
    // The synthetic DAGs' fields all render on the event loop.
    expect(render.off_loop_renders).toBe(0);
    expect(report.peak_rss_mb).toBeGreaterThan(0);
    // No progress bar outside a terminal.
    expect(r.stderr).not.toMatch(/task instances/);
  });

  test('options are validated with a message naming the option', () => {
    const r = h.run(['bench', '--tasks', '20001']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--tasks is at most 10000/);
    const op = h.run(['bench', '--operator', 'docker']);
    expect(op.code).toBe(1);
    expect(op.stderr).toMatch(/--operator must be among bash, node, python, empty, got 'docker'/);
    const probe = h.run(['bench', '--hit-probe', '-3']);
    expect(probe.code).toBe(1);
    expect(probe.stderr).toMatch(/--hit-probe must be a whole number >= 0, got '-3'/);
  });

  test('--hit-probe 0 skips the serial probe', () => {
    const r = h.json([
      'bench',
      '--tasks',
      '3',
      '--operator',
      'empty',
      '--no-loop-scaling',
      '--hit-probe',
      '0',
      '--no-whole-process',
    ]);
    expect(r.code).toBe(0);
    expect(r.data.serial_hit_cost_ms).toBeNull();
    expect(r.data.whole_process).toBeNull();
  });
});
