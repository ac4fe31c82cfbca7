import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { TemplateError } from '../errors.js';
import { runnerPaths } from '../util/paths.js';
import type { RenderReply, RenderRequest } from './render-request.js';
import { VARIABLES_READ, type ResolvedInputs } from './resolve.js';

/**
 * Heap of one render worker. A template that builds many large strings or lists (each under the
 * engine's per-value limits) dies here with ERR_WORKER_OUT_OF_MEMORY instead of taking the
 * scheduler's heap with it.
 */
export const RENDER_WORKER_HEAP_MB = 96;
/** After the deadline the engine's own clock check fails the field; this is the backstop for a long single step. */
const TERMINATE_GRACE_MS = 250;
/** Renders off the loop at once: a flood of heavy templates cannot start a thread (and a heap) each. */
const workers = new PQueue({ concurrency: 4 });
let started = 0;

/** How many task renders this process has sent off the event loop (the benchmark reports it). */
export function offLoopRenderCount(): number {
  return started;
}

/**
 * Renders a task's fields in a fresh worker thread (resource-limited, empty environment) and
 * terminates it at the deadline. Only templates that outrun the in-process step budget come here,
 * so the thread's start-up cost is never on the hit path of ordinary templates.
 */
export async function renderOffLoop(
  req: RenderRequest,
  workerFile = runnerPaths.renderWorker(),
): Promise<ResolvedInputs> {
  started++;
  const reply = await workers.add(() => runInWorker(req, workerFile));
  if (reply.type === 'failed') throw new TemplateError(reply.message);
  const inputs = reply.inputs;
  if (reply.variablesRead) Object.defineProperty(inputs, VARIABLES_READ, { value: reply.variablesRead });
  return inputs;
}

type Outcome = Exclude<RenderReply, { type: 'field' }>;

function runInWorker(req: RenderRequest, workerFile: string): Promise<Outcome> {
  const { dagId, taskId } = req.who;
  let field: string | undefined;
  const failed = (problem: string): Outcome => ({
    type: 'failed',
    message: `DAG '${dagId}', task '${taskId}', ${field ? `field '${field}'` : 'its templates'}: ${problem}`,
  });
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const worker = new Worker(workerFile, {
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: RENDER_WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
    });
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        finish(failed(`rendering took longer than [core] template_render_timeout (${req.bounds.timeoutSeconds} s)`)),
      Math.max(0, req.deadlineEpochMs - Date.now()) + TERMINATE_GRACE_MS,
    );
    worker.on('message', (reply: RenderReply) => {
      if (reply.type === 'field') field = reply.field;
      else finish(reply);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      finish(
        failed(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `rendering needed more than ${RENDER_WORKER_HEAP_MB} MB of memory (the render worker's limit)`
            : `the render worker failed: ${err.message}`,
        ),
      );
    });
    worker.on('exit', (code) => finish(failed(`the render worker exited (code ${code}) before it finished`)));
    worker.postMessage(req);
  });
}
