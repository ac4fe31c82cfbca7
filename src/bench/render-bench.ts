/**
 * Template rendering on the hit path, per rendered field: this engine (@huggingface/jinja with
 * miniflow's bounds, the way the scheduler renders a task instance) against the old one (nunjucks,
 * rendered as miniflow did before issue 11), over the templates of the example DAGs. nunjucks is a
 * devDependency only: where it is not installed (`npm i --no-save nunjucks` adds it) the old
 * engine's figures are null.
 */
import { buildTemplateContext, type TemplateContext } from '../templating/context.js';
import { DEFAULT_RENDER_BOUNDS, FieldRenderer } from '../templating/render.js';
import { offLoopRenderCount } from '../templating/offloop.js';
import { IN_PROCESS_BUDGET } from '../templating/task-inputs.js';
import { percentile, round } from './stats.js';

/** What the example DAGs' fields look like, a literal among them (most fields are not templates). */
export const RENDER_BENCH_TEMPLATES = [
  'echo {{ ds }}',
  '{{ params.source }}',
  "{{ ti.xcom_pull(task_ids='extract') }}",
  "{{ dag_run.conf.get('x', 'y') }}",
  'python train.py --epochs 3',
];

export interface RenderPercentiles {
  p50: number | null;
  p99: number | null;
}

export interface RenderTemplateResult {
  source: string;
  new: RenderPercentiles;
  /** null when nunjucks is not installed or cannot render this template. */
  old: RenderPercentiles | null;
  /** Why the old engine gave no figure for this template (it failed, or it is absent). */
  old_error: string | null;
}

export interface RenderBenchResult {
  samples_per_template: number;
  engine: string;
  old_engine: string | null;
  /** Microseconds per rendered field, over every template (old: those it renders). */
  us_per_field: { new: RenderPercentiles; old: RenderPercentiles | null };
  templates: RenderTemplateResult[];
  /** Task renders of the whole bench that outran the in-process budget and went to a worker (0 expected). */
  off_loop_renders: number;
}

interface Nunjucks {
  Environment: new (loader: null, opts: object) => object;
  Template: new (src: string, env: object, path: undefined, eager: boolean) => { render(ctx: object): string };
}

/** The old engine, if installed; the specifier is a variable so that the build does not need it. */
async function loadNunjucks(): Promise<Nunjucks | null> {
  const name = 'nunjucks';
  try {
    const mod = (await import(name)) as { default?: Nunjucks } & Nunjucks;
    return mod.default ?? mod;
  } catch {
    return null;
  }
}

const context = (): TemplateContext =>
  buildTemplateContext({
    dagId: 'example_pipeline',
    runId: 'manual__2026-01-01T00:00:00+00:00',
    logicalDate: new Date('2026-01-01T00:00:00Z'),
    conf: { model: 'small' },
    params: { source: 's3://bucket/in.csv' },
    xcom: (taskId, key) => (taskId === 'extract' && key === 'return_value' ? { rows: 42 } : undefined),
  });

/** The context nunjucks saw before issue 11: plain objects, `ti.xcom_pull` a JS function. */
function oldContext(ctx: TemplateContext): object {
  const xcomPull = (arg: string | { task_ids?: string }) => {
    const taskId = typeof arg === 'string' ? arg : arg.task_ids;
    return taskId === 'extract' ? { rows: 42 } : undefined;
  };
  return { ...ctx, ti: { xcom_pull: xcomPull }, task_instance: { xcom_pull: xcomPull } };
}

/** Times `render` once per sample, after a warm-up; µs. */
function sample(render: () => unknown, samples: number): number[] {
  for (let i = 0; i < Math.min(200, samples); i++) render();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    render();
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

const pct = (v: number[]): RenderPercentiles => ({
  p50: round(percentile(v, 50), 2),
  p99: round(percentile(v, 99), 2),
});

export async function renderBench(samples = 2000): Promise<RenderBenchResult> {
  const ctx = context();
  const who = { dagId: 'example_pipeline', taskId: 'load' };
  const nunjucks = await loadNunjucks();
  const env = nunjucks && new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const old = oldContext(ctx);
  const allNew: number[] = [];
  const allOld: number[] = [];
  const templates: RenderTemplateResult[] = [];
  for (const source of RENDER_BENCH_TEMPLATES) {
    // As the scheduler does per task instance: a renderer (scope, budget) per task, compiled templates shared.
    const newTimes = sample(
      () => new FieldRenderer(ctx, who, DEFAULT_RENDER_BOUNDS, IN_PROCESS_BUDGET).render(source),
      samples,
    );
    allNew.push(...newTimes);
    let oldTimes: number[] | null = null;
    let oldError: string | null = nunjucks ? null : 'nunjucks is not installed (npm i --no-save nunjucks)';
    if (nunjucks && env) {
      // The old path: literals skipped, compiled templates cached by source.
      const templated = source.includes('{{') || source.includes('{%');
      const template = templated ? new nunjucks.Template(source, env, undefined, true) : null;
      try {
        oldTimes = sample(() => (template ? template.render(old) : source), samples);
        allOld.push(...oldTimes);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        oldError = message
          .replace(/\(unknown path\)|Error: /g, '')
          .replace(/\s+/g, ' ')
          .trim();
      }
    }
    templates.push({ source, new: pct(newTimes), old: oldTimes && pct(oldTimes), old_error: oldError });
  }
  return {
    samples_per_template: samples,
    engine: '@huggingface/jinja (sandboxed, bounded)',
    old_engine: nunjucks ? 'nunjucks' : null,
    us_per_field: { new: pct(allNew), old: nunjucks ? pct(allOld) : null },
    templates,
    off_loop_renders: offLoopRenderCount(),
  };
}
