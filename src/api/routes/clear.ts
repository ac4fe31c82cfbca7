import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { clearCandidates, clearTaskInstances, type ClearSpec } from '../../models/clear.js';
import { DagRunStore } from '../../models/dag-run.js';
import { closestMatch } from '../../util/closest.js';
import { BEARER, DAG_ID, writeGuard, type ApiContext } from '../context.js';
import { taskInstanceView } from '../views.js';

interface ClearBody {
  dry_run?: boolean;
  dag_run_id?: string | null;
  task_ids?: string[] | null;
  only_failed?: boolean;
  include_upstream?: boolean;
  include_downstream?: boolean;
}

/** Task ids plus their upstream and/or downstream tasks (Airflow's include_upstream / include_downstream). */
function widen(start: string[], next: (id: string) => readonly string[]): Set<string> {
  const seen = new Set(start);
  const todo = [...start];
  for (let id = todo.pop(); id !== undefined; id = todo.pop())
    for (const n of next(id)) {
      if (seen.has(n)) continue;
      seen.add(n);
      todo.push(n);
    }
  return seen;
}

/** POST /dags/{dag_id}/clearTaskInstances, as Airflow: dry_run defaults to true. */
export function clearRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { dag_id: string }; Body: ClearBody | undefined }>(
    '/api/v2/dags/:dag_id/clearTaskInstances',
    {
      preHandler: writeGuard(ctx),
      schema: {
        tags: ['TaskInstance'],
        summary: 'Clear task instances so a running scheduler runs them again (dry_run defaults to true, as Airflow)',
        security: BEARER,
        params: { type: 'object', properties: { dag_id: DAG_ID } },
        body: {
          type: 'object',
          properties: {
            dry_run: { type: 'boolean', default: true },
            dag_run_id: { type: ['string', 'null'] },
            task_ids: { type: ['array', 'null'], items: { type: 'string' } },
            only_failed: { type: 'boolean', default: false },
            include_upstream: { type: 'boolean', default: false },
            include_downstream: { type: 'boolean', default: false },
          },
        },
      },
    },
    async (request) => {
      const b = request.body ?? {};
      const dag = await ctx.dags.dag(request.params.dag_id);
      const runs = new DagRunStore(ctx.rt.db);
      if (b.dag_run_id) await runs.get(dag.dagId, b.dag_run_id);
      let taskIds: Set<string> | null = null;
      if (b.task_ids) {
        for (const id of b.task_ids) {
          if (dag.tasks.has(id)) continue;
          const near = closestMatch(id, dag.topoOrder);
          throw new NotFoundError(`DAG '${dag.dagId}' has no task '${id}'${near ? `; did you mean '${near}'?` : ''}`);
        }
        taskIds = new Set(b.task_ids);
        if (b.include_downstream) taskIds = widen([...taskIds], (id) => dag.tasks.get(id)?.downstreamTaskIds ?? []);
        if (b.include_upstream)
          taskIds = new Set([...taskIds, ...widen(b.task_ids, (id) => dag.tasks.get(id)?.upstreamTaskIds ?? [])]);
      }
      const spec: ClearSpec = {
        dagId: dag.dagId,
        runId: b.dag_run_id ?? null,
        taskIds,
        onlyFailed: b.only_failed === true,
        retriesOf: (id) => dag.tasks.get(id)?.retries ?? ctx.rt.settings.core.defaultTaskRetries,
      };
      const candidates = await clearCandidates(ctx.rt.db, spec);
      const cleared = b.dry_run === false ? await clearTaskInstances(ctx.rt.db, candidates, spec) : candidates;
      const runRows = new Map((await runs.list(dag.dagId)).map((r) => [r.run_id, r]));
      return {
        task_instances: cleared.map((ti) => taskInstanceView(ti, runRows.get(ti.run_id) ?? null)),
        total_entries: cleared.length,
      };
    },
  );
}
