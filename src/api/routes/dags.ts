import type { FastifyInstance } from 'fastify';
import { DagStore } from '../../models/dag.js';
import { listImportErrors } from '../../models/import-error.js';
import { BEARER, DAG_ID, writeGuard, type ApiContext } from '../context.js';
import { PAGE_QUERY, pageOf, type PageQuery } from '../pagination.js';
import { dagDetailView, dagView, taskDefView } from '../views.js';

interface DagListQuery extends PageQuery {
  dag_id_pattern?: string;
  paused?: boolean;
}

/** DAGs: list, detail, tasks, pause / unpause. */
export function dagRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const flags = async () => {
    const paused = await new DagStore(ctx.rt.db).pausedFlags();
    const withErrors = new Set((await listImportErrors(ctx.rt.db)).map((e) => e.dag_id));
    return { paused: (id: string) => paused.get(id) === true, broken: (id: string) => withErrors.has(id) };
  };

  app.get<{ Querystring: DagListQuery }>(
    '/api/v2/dags',
    {
      schema: {
        tags: ['DAG'],
        summary: 'List DAGs',
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY,
            dag_id_pattern: { type: 'string', description: 'Only DAG ids containing this text' },
            paused: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const reg = await ctx.dags.registry();
      const f = await flags();
      const all = [...reg.dags.values()]
        .sort((a, b) => a.dagId.localeCompare(b.dagId))
        .map((d) => dagView(d, f.paused(d.dagId), f.broken(d.dagId)))
        .filter((d) => q.dag_id_pattern === undefined || d.dag_id.includes(q.dag_id_pattern))
        .filter((d) => q.paused === undefined || d.is_paused === q.paused);
      return { dags: pageOf(all, q), total_entries: all.length };
    },
  );

  app.get<{ Params: { dag_id: string } }>(
    '/api/v2/dags/:dag_id',
    { schema: { tags: ['DAG'], summary: 'Get a DAG', params: { type: 'object', properties: { dag_id: DAG_ID } } } },
    async (request) => {
      const dag = await ctx.dags.dag(request.params.dag_id);
      const f = await flags();
      return dagDetailView(dag, f.paused(dag.dagId), f.broken(dag.dagId));
    },
  );

  app.get<{ Params: { dag_id: string } }>(
    '/api/v2/dags/:dag_id/tasks',
    {
      schema: {
        tags: ['Task'],
        summary: "A DAG's tasks and their edges",
        params: { type: 'object', properties: { dag_id: DAG_ID } },
      },
    },
    async (request) => {
      const dag = await ctx.dags.dag(request.params.dag_id);
      const tasks = dag.topoOrder.map((id) => taskDefView(dag.tasks.get(id)!));
      return { tasks, total_entries: tasks.length };
    },
  );

  app.patch<{ Params: { dag_id: string }; Body: { is_paused: boolean } }>(
    '/api/v2/dags/:dag_id',
    {
      preHandler: writeGuard(ctx),
      schema: {
        tags: ['DAG'],
        summary: 'Pause or unpause a DAG',
        security: BEARER,
        params: { type: 'object', properties: { dag_id: DAG_ID } },
        body: {
          type: 'object',
          required: ['is_paused'],
          properties: { is_paused: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const dag = await ctx.dags.dag(request.params.dag_id);
      await new DagStore(ctx.rt.db).setPaused(dag.dagId, request.body.is_paused);
      const f = await flags();
      return dagView(dag, f.paused(dag.dagId), f.broken(dag.dagId));
    },
  );
}
