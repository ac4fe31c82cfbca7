import type { FastifyInstance } from 'fastify';
import { UsageError } from '../../errors.js';
import { DagRunStore } from '../../models/dag-run.js';
import { quoteShort, parseDate, parseRunId } from '../../cli/parse.js';
import { BEARER, DAG_ID, RUN_ID, writeGuard, type ApiContext } from '../context.js';
import { PAGE_QUERY, type PageQuery } from '../pagination.js';
import { ApiError } from '../problem.js';
import { dagRunView } from '../views.js';

interface TriggerBody {
  dag_run_id?: string | null;
  logical_date?: string | null;
  conf?: unknown;
  note?: string | null;
}

/** dag_run.conf as the CLI checks it, in the same words (the field name is `conf` here). */
function checkConf(conf: unknown): Record<string, unknown> {
  if (conf === undefined || conf === null) return {};
  if (typeof conf !== 'object' || Array.isArray(conf))
    throw new UsageError(`conf must be a JSON object, got: ${quoteShort(JSON.stringify(conf))}`);
  return conf as Record<string, unknown>;
}

/** DAG runs: list, get, trigger. */
export function dagRunRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const runs = new DagRunStore(ctx.rt.db);
  const params = { type: 'object', properties: { dag_id: DAG_ID } } as const;

  app.get<{ Params: { dag_id: string }; Querystring: PageQuery }>(
    '/api/v2/dags/:dag_id/dagRuns',
    {
      schema: {
        tags: ['DagRun'],
        summary: "List a DAG's runs (oldest first)",
        params,
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
      },
    },
    async (request) => {
      const { dag_id } = request.params;
      const page = await runs.page(dag_id, request.query.limit, request.query.offset);
      // No runs may mean a mistyped id: a DAG that is not loaded and has no runs is a 404.
      if (page.total === 0) await ctx.dags.dag(dag_id);
      return { dag_runs: page.rows.map(dagRunView), total_entries: page.total };
    },
  );

  app.get<{ Params: { dag_id: string; dag_run_id: string } }>(
    '/api/v2/dags/:dag_id/dagRuns/:dag_run_id',
    {
      schema: {
        tags: ['DagRun'],
        summary: 'Get a DAG run',
        params: { type: 'object', properties: { dag_id: DAG_ID, dag_run_id: RUN_ID } },
      },
    },
    async (request) => dagRunView(await runs.get(request.params.dag_id, request.params.dag_run_id)),
  );

  app.post<{ Params: { dag_id: string }; Body: TriggerBody | undefined }>(
    '/api/v2/dags/:dag_id/dagRuns',
    {
      preHandler: writeGuard(ctx),
      schema: {
        tags: ['DagRun'],
        summary: 'Trigger a DAG run: it is queued for a running `miniflow scheduler`',
        security: BEARER,
        params,
        body: {
          type: 'object',
          properties: {
            dag_run_id: { type: ['string', 'null'] },
            logical_date: { type: ['string', 'null'], description: 'ISO 8601 date or timestamp (default: now)' },
            conf: { description: 'dag_run.conf: a JSON object' },
            note: { type: ['string', 'null'] },
          },
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const dag = await ctx.dags.dag(request.params.dag_id);
      const conf = checkConf(body.conf);
      const runId = parseRunId(body.dag_run_id ?? undefined);
      const logicalDate = body.logical_date ? parseDate(body.logical_date, 'logical_date') : ctx.rt.clock.now();
      if (runId !== undefined && (await runs.find(dag.dagId, runId)))
        throw new ApiError(409, `DAG '${dag.dagId}' already has a run '${runId}': choose another dag_run_id`);
      const run = await runs.create(
        dag,
        { dagId: dag.dagId, runId, logicalDate, conf, runType: 'manual' },
        ctx.rt.clock.now(),
      );
      return dagRunView(run);
    },
  );
}
