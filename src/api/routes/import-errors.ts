import type { FastifyInstance } from 'fastify';
import { listImportErrors } from '../../models/import-error.js';
import type { ApiContext } from '../context.js';
import { PAGE_QUERY, pageOf, type PageQuery } from '../pagination.js';

/** GET /importErrors: DAG files that failed to load, with the reason (Airflow's ImportErrorResponse). */
export function importErrorRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: PageQuery }>(
    '/api/v2/importErrors',
    {
      schema: {
        tags: ['ImportError'],
        summary: 'DAG files that failed to load',
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
      },
    },
    async (request) => {
      await ctx.dags.registry(); // a fresh enough parse records the current errors
      const all = (await listImportErrors(ctx.rt.db)).map((e) => ({
        import_error_id: e.id,
        timestamp: new Date(Number(e.timestamp)).toISOString(),
        filename: e.filename,
        bundle_name: e.bundle_name,
        dag_id: e.dag_id,
        task_id: e.task_id,
        stack_trace: e.stacktrace,
      }));
      return { import_errors: pageOf(all, request.query), total_entries: all.length };
    },
  );
}
