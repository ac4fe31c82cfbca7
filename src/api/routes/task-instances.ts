import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { renderHitLog } from '../../cli/hit-log.js';
import { NotFoundError } from '../../errors.js';
import { hitLatencyOf } from '../../models/cache-event.js';
import { DagRunStore } from '../../models/dag-run.js';
import { TaskInstanceStore } from '../../models/task-instance.js';
import { xcomsOfTask } from '../../models/xcom.js';
import { taskLogPath } from '../../util/log-path.js';
import { DAG_ID, RUN_ID, TASK_ID, type ApiContext } from '../context.js';
import { PAGE_QUERY, pageOf, type PageQuery } from '../pagination.js';
import { taskInstanceView, xcomView } from '../views.js';

type TiParams = { dag_id: string; dag_run_id: string; task_id: string };
const TI_PARAMS = { type: 'object', properties: { dag_id: DAG_ID, dag_run_id: RUN_ID, task_id: TASK_ID } } as const;
const TI_PATH = '/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id';

/** Task instances of a run, one task instance, its try logs and its XComs. */
export function taskInstanceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const runs = new DagRunStore(ctx.rt.db);
  const tis = new TaskInstanceStore(ctx.rt.db);

  app.get<{ Params: { dag_id: string; dag_run_id: string }; Querystring: PageQuery }>(
    '/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances',
    {
      schema: {
        tags: ['TaskInstance'],
        summary: "A run's task instances, with each one's cache decision",
        params: { type: 'object', properties: { dag_id: DAG_ID, dag_run_id: RUN_ID } },
        querystring: { type: 'object', properties: { ...PAGE_QUERY, limit: { ...PAGE_QUERY.limit, default: 100 } } },
      },
    },
    async (request) => {
      const run = await runs.get(request.params.dag_id, request.params.dag_run_id);
      const all = await tis.fullRows(run.dag_id, run.run_id);
      return {
        task_instances: pageOf(all, request.query).map((t) => taskInstanceView(t, run)),
        total_entries: all.length,
      };
    },
  );

  app.get<{ Params: TiParams }>(
    TI_PATH,
    { schema: { tags: ['TaskInstance'], summary: 'One task instance', params: TI_PARAMS } },
    async (request) => {
      const { dag_id, dag_run_id, task_id } = request.params;
      const run = await runs.get(dag_id, dag_run_id);
      return taskInstanceView(await tis.get(dag_id, dag_run_id, task_id), run);
    },
  );

  app.get<{ Params: TiParams & { try_number: number } }>(
    `${TI_PATH}/logs/:try_number`,
    {
      schema: {
        tags: ['TaskInstance'],
        summary: "A try's log (a cache hit's log is told from its cache record: no process ran)",
        params: {
          type: 'object',
          properties: { ...TI_PARAMS.properties, try_number: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (request) => {
      const { dag_id, dag_run_id, task_id, try_number } = request.params;
      await runs.get(dag_id, dag_run_id);
      const ti = await tis.get(dag_id, dag_run_id, task_id);
      const file = taskLogPath(ctx.rt.settings.logging.baseLogFolder, dag_id, dag_run_id, task_id, try_number);
      const latest = try_number === ti.try_number;
      if (!existsSync(file) && latest && ti.cache_decision === 'hit' && ti.cache_key) {
        const entry = await (await ctx.rt.cacheBackend()).get(ti.cache_key).catch(() => null);
        const content = renderHitLog(
          ti,
          entry,
          await hitLatencyOf(ctx.rt.db, ti),
          ctx.rt.settings.core.taskCacheBackend,
        );
        return { content, continuation_token: null };
      }
      if (!existsSync(file)) {
        const why = latest && ti.error ? `; the try failed before it started: ${ti.error}` : '';
        throw new NotFoundError(`no log for try ${try_number} of task '${task_id}' in run '${dag_run_id}'${why}`);
      }
      return { content: readFileSync(file, 'utf8'), continuation_token: null };
    },
  );

  app.get<{ Params: TiParams; Querystring: PageQuery }>(
    `${TI_PATH}/xcomEntries`,
    {
      schema: {
        tags: ['XCom'],
        summary: 'XComs a task instance pushed',
        params: TI_PARAMS,
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
      },
    },
    async (request) => {
      const { dag_id, dag_run_id, task_id } = request.params;
      await tis.get(dag_id, dag_run_id, task_id);
      const all = await xcomsOfTask(ctx.rt.db, dag_id, dag_run_id, task_id);
      return { xcom_entries: pageOf(all, request.query).map((x) => xcomView(x, false)), total_entries: all.length };
    },
  );

  app.get<{ Params: TiParams & { xcom_key: string } }>(
    `${TI_PATH}/xcomEntries/:xcom_key`,
    {
      schema: {
        tags: ['XCom'],
        summary: 'One XCom with its value',
        params: { type: 'object', properties: { ...TI_PARAMS.properties, xcom_key: { type: 'string' } } },
      },
    },
    async (request) => {
      const { dag_id, dag_run_id, task_id, xcom_key } = request.params;
      await tis.get(dag_id, dag_run_id, task_id);
      const x = (await xcomsOfTask(ctx.rt.db, dag_id, dag_run_id, task_id)).find((r) => r.key === xcom_key);
      if (!x) throw new NotFoundError(`task '${task_id}' of run '${dag_run_id}' pushed no XCom '${xcom_key}'`);
      return xcomView(x, true);
    },
  );
}
