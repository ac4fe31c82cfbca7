import type { Json, TaskInputs } from '../dag/model.js';
import { TemplateError } from '../errors.js';
import { XCOM_READER, type JsonObject, type TemplateContext } from './context.js';
import { FieldRenderer, RenderFailure, type RenderBounds } from './render.js';
import type { TaskScope } from './scope.js';

/** The variables a task's templates read (key -> value, null when absent); a symbol, so never an input. */
export const VARIABLES_READ: unique symbol = Symbol('miniflow.variablesRead');

/** A task's inputs with templates rendered and XCom references replaced by their values. */
export interface ResolvedInputs {
  op_args: Json[];
  op_kwargs: JsonObject;
  bash_command?: string;
  env: { [k: string]: string };
  cwd?: string;
  filepath?: string;
  [VARIABLES_READ]?: { [key: string]: Json };
}

/** The task instance whose inputs these are (TaskScope: try number, map index, variables) and the bounds. */
export interface InputsLocation extends TaskScope {
  bounds?: RenderBounds;
}

/** The fields a task's templates may hold, in the order they are resolved. */
export const TEXT_FIELDS = ['bash_command', 'cwd', 'filepath'] as const;

/** Resolves a task's raw inputs for one task instance; every failure is a TemplateError naming the field. */
export function resolveInputs(inputs: TaskInputs, ctx: TemplateContext, where: InputsLocation): ResolvedInputs {
  return resolveWith(inputs, new InputWalker(ctx, where, new FieldRenderer(ctx, where, where.bounds)));
}

/** Resolves with a given renderer (the scheduler's may stop after a step budget; see offloop.ts). */
export function resolveWith(inputs: TaskInputs, walker: InputWalker): ResolvedInputs {
  const resolved: ResolvedInputs = {
    op_args: (inputs.op_args ?? []).map((v, i) => walker.value(v, `op_args[${i}]`)),
    op_kwargs: walker.object(inputs.op_kwargs ?? {}, 'op_kwargs'),
    env: {},
  };
  for (const [name, raw] of Object.entries(inputs.env ?? {})) {
    const value = walker.value(raw, `env.${name}`);
    resolved.env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  for (const field of TEXT_FIELDS) {
    const raw = inputs[field];
    if (raw !== undefined) resolved[field] = walker.text(raw, field);
  }
  if (walker.renderer.variablesRead.size > 0) {
    Object.defineProperty(resolved, VARIABLES_READ, { value: Object.fromEntries(walker.renderer.variablesRead) });
  }
  return resolved;
}

export class InputWalker {
  constructor(
    private readonly ctx: TemplateContext,
    private readonly where: InputsLocation,
    readonly renderer: FieldRenderer,
  ) {}

  value(value: Json, field: string): Json {
    if (typeof value === 'string') return this.text(value, field);
    if (Array.isArray(value)) return value.map((v, i) => this.value(v, `${field}[${i}]`));
    if (value !== null && typeof value === 'object') {
      return value.__type === 'xcomref' ? this.xcomRef(value, field) : this.object(value, field);
    }
    return value;
  }

  object(value: JsonObject, field: string): JsonObject {
    const out: JsonObject = {};
    // defineProperty, not assignment: a key named "__proto__" stays an own key (it is an input).
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, {
        value: this.value(v, `${field}.${k}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }

  text(source: string, field: string): string {
    try {
      return this.renderer.render(source);
    } catch (err) {
      if (err instanceof RenderFailure)
        throw this.error(field, `template ${quoteShort(source)} failed: ${err.message}`);
      throw err;
    }
  }

  /** Airflow's serialized XComArg: `{"__type": "xcomref", "__var": {"task_id", "key"}}`. */
  private xcomRef(ref: JsonObject, field: string): Json {
    const v = ref.__var;
    const taskId = v !== null && typeof v === 'object' && !Array.isArray(v) ? v.task_id : undefined;
    const key = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v.key ?? 'return_value') : undefined;
    if (typeof taskId !== 'string' || typeof key !== 'string') {
      throw this.error(
        field,
        `malformed XCom reference ${JSON.stringify(ref)}: expected {"__type": "xcomref", "__var": {"task_id": "...", "key": "..."}}`,
      );
    }
    const value = this.ctx[XCOM_READER](taskId, key);
    if (value === undefined) {
      throw this.error(
        field,
        `XCom '${key}' of task '${taskId}' does not exist in this DAG run; check that '${taskId}' is upstream and pushes '${key}'`,
      );
    }
    return value;
  }

  private error(field: string, problem: string): TemplateError {
    return new TemplateError(`DAG '${this.where.dagId}', task '${this.where.taskId}', field '${field}': ${problem}`);
  }
}

/** The template source for a one-line message: long scripts are cut. */
function quoteShort(source: string, max = 120): string {
  return JSON.stringify(source.length > max ? `${source.slice(0, max)}...` : source);
}
