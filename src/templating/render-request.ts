import type { Json, TaskInputs } from '../dag/model.js';
import { TemplateError } from '../errors.js';
import { XCOM_READER, type TemplateContext } from './context.js';
import { FieldRenderer, isTemplated, type RenderBounds } from './render.js';
import { InputWalker, resolveWith, VARIABLES_READ, type ResolvedInputs } from './resolve.js';
import { variableLookup, type VariableSnapshot } from './scope.js';

/** The template context without its XCom reader: what crosses to a worker thread. */
export type ContextData = Omit<TemplateContext, typeof XCOM_READER>;

/**
 * Everything one task instance's render needs, as plain data (structured-clonable): the render off
 * the event loop gets it in one message and reaches nothing else.
 */
export interface RenderRequest {
  inputs: TaskInputs;
  context: ContextData;
  /** Every XCom the templates may read: [task_id, key, value]. */
  xcoms: [string, string, Json][];
  variables?: VariableSnapshot;
  who: { dagId: string; taskId: string; tryNumber?: number; mapIndex?: number };
  bounds: RenderBounds;
  /** When the task's render must be over, in Date.now() milliseconds (threads do not share performance.now()). */
  deadlineEpochMs: number;
}

/** What the worker sends back: the field it starts (for the timeout message), then the outcome. */
export type RenderReply =
  | { type: 'field'; field: string }
  | { type: 'done'; inputs: ResolvedInputs; variablesRead: { [key: string]: Json } | null }
  | { type: 'failed'; message: string };

/** Reports each templated field before rendering it, so a worker cut off mid-field can name it. */
class ReportingWalker extends InputWalker {
  constructor(
    ctx: TemplateContext,
    where: ConstructorParameters<typeof InputWalker>[1],
    renderer: FieldRenderer,
    private readonly onField: (field: string) => void,
  ) {
    super(ctx, where, renderer);
  }

  override text(source: string, field: string): string {
    if (isTemplated(source)) this.onField(field);
    return super.text(source, field);
  }
}

/** Renders a request with no step budget, up to its deadline; failures come back as messages. */
export function renderRequest(req: RenderRequest, onField: (field: string) => void = () => {}): RenderReply {
  const xcoms = new Map(req.xcoms.map(([t, k, v]) => [`${t}\u0000${k}`, v]));
  const ctx: TemplateContext = {
    ...req.context,
    [XCOM_READER]: (taskId, key) => xcoms.get(`${taskId}\u0000${key}`),
  };
  const where = { ...req.who, variables: req.variables && variableLookup(req.variables), bounds: req.bounds };
  const deadline = performance.now() + (req.deadlineEpochMs - Date.now());
  const renderer = new FieldRenderer(ctx, where, req.bounds, { deadline });
  try {
    const inputs = resolveWith(req.inputs, new ReportingWalker(ctx, where, renderer, onField));
    return { type: 'done', inputs, variablesRead: inputs[VARIABLES_READ] ?? null };
  } catch (err) {
    if (err instanceof TemplateError) return { type: 'failed', message: err.message };
    // Anything else is still this task's failure, never the scheduler's.
    const detail = err instanceof Error ? err.message : String(err);
    return { type: 'failed', message: `DAG '${req.who.dagId}', task '${req.who.taskId}': rendering failed: ${detail}` };
  }
}
