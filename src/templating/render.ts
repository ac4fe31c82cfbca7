import type { Json } from '../dag/model.js';
import type { TemplateContext } from './context.js';
import { RenderLimitExceeded, compile, renderProgram, type RenderLimits } from './engine.js';
import { Environment } from './jinja-runtime.js';
import { taskScope, type TaskScope } from './scope.js';

export { RenderFailure, RenderLimitExceeded, compiledTemplateCount } from './engine.js';

/** `[core] template_render_timeout` and `[core] max_rendered_field_bytes`, with Airflow-like defaults. */
export interface RenderBounds {
  timeoutSeconds: number;
  maxFieldBytes: number;
}
export const DEFAULT_RENDER_BOUNDS: RenderBounds = { timeoutSeconds: 5, maxFieldBytes: 1024 * 1024 };

/** How far a FieldRenderer goes: steps for all the task's fields together, and its own deadline. */
export interface RenderBudget {
  /** Past this many steps the render stops with RenderBudgetExhausted (default: no step limit). */
  maxSteps?: number;
  /** Milliseconds after which the render stops with RenderBudgetExhausted (default: none). */
  maxMs?: number;
  /** performance.now() deadline (default: now + template_render_timeout). */
  deadline?: number;
}

/** Strings without template markers are returned as they are, without touching the engine. */
export function isTemplated(source: string): boolean {
  return source.includes('{{') || source.includes('{%') || source.includes('{#');
}

/**
 * Renders the fields of one task instance: one scope for all of them (each field gets its own
 * child, so a `{% set %}` in one never leaks into the next) and one deadline for the whole task.
 */
export class FieldRenderer {
  private scope: Environment | undefined;
  /** Variables the fields read (key -> value, null when absent): cache key components `var.KEY`. */
  readonly variablesRead = new Map<string, Json>();
  private readonly limits: RenderLimits;

  constructor(
    private readonly ctx: TemplateContext,
    private readonly who: TaskScope,
    private readonly bounds: RenderBounds = DEFAULT_RENDER_BOUNDS,
    budget: RenderBudget = {},
  ) {
    const now = performance.now();
    this.limits = {
      deadline: budget.deadline ?? now + bounds.timeoutSeconds * 1000,
      yieldAt: budget.maxMs === undefined ? undefined : now + budget.maxMs,
      maxBytes: bounds.maxFieldBytes,
      maxSteps: budget.maxSteps ?? Infinity,
      spent: { steps: 0 },
    };
  }

  render(source: string): string {
    if (!isTemplated(source)) {
      if (Buffer.byteLength(source) > this.limits.maxBytes) throw this.overSize();
      return source;
    }
    const program = compile(source);
    this.scope ??= taskScope(this.ctx, this.who, this.variablesRead);
    try {
      return renderProgram(program, new Environment(this.scope), this.limits);
    } catch (err) {
      if (err instanceof RenderLimitExceeded && err.message === 'rendering took too long') {
        throw new RenderLimitExceeded(
          `rendering took longer than [core] template_render_timeout (${this.bounds.timeoutSeconds} s)`,
        );
      }
      if (err instanceof RenderLimitExceeded && err.message.includes('bytes')) {
        throw new RenderLimitExceeded(
          `${err.message} ([core] max_rendered_field_bytes = ${this.bounds.maxFieldBytes})`,
        );
      }
      throw err;
    }
  }

  private overSize(): RenderLimitExceeded {
    return new RenderLimitExceeded(
      `the field is over [core] max_rendered_field_bytes (${this.bounds.maxFieldBytes} bytes)`,
    );
  }
}

/** Renders one template against a run's context; plain strings come back untouched. */
export function renderTemplate(source: string, ctx: TemplateContext, who?: TaskScope, bounds?: RenderBounds): string {
  if (!isTemplated(source)) return source;
  return new FieldRenderer(ctx, who ?? { dagId: ctx.dag.dag_id, taskId: '' }, bounds).render(source);
}
