import type { FastifyInstance } from 'fastify';
import { entryDetail, entryView, parseAgeOrDate, resolveEntry } from '../../cache/admin.js';
import { explainTask, type ExplainTarget } from '../../cache/explain.js';
import { cacheStats } from '../../cache/stats.js';
import type { CacheFilter } from '../../cache/types.js';
import { parseConf, parseDate } from '../../cli/parse.js';
import type { Json } from '../../dag/model.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { cacheDecisionTimes } from '../../models/cache-event.js';
import { closestMatch } from '../../util/closest.js';
import { cacheTimeline } from '../cache-timeline.js';
import { BEARER, DAG_ID, RUN_ID, TASK_ID, writeGuard, type ApiContext } from '../context.js';
import { PAGE_QUERY, pageOf, type PageQuery } from '../pagination.js';

interface EntriesQuery extends PageQuery {
  dag_id?: string;
  task_id?: string;
  team_name?: string;
  expired?: boolean;
}

interface ExplainQuery {
  dag_id: string;
  task_id: string;
  dag_run_id?: string;
  conf?: string;
  logical_date?: string;
}

const KEY = {
  type: 'object',
  properties: { key: { type: 'string', description: 'Full key or a unique prefix (6+)' } },
};

/** miniflow's cache resource: entries, one entry, invalidate, stats (with a timeline), explain. */
export function cacheRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const backend = () => ctx.rt.cacheBackend();

  app.get<{ Querystring: EntriesQuery }>(
    '/api/v2/cache/entries',
    {
      schema: {
        tags: ['Cache'],
        summary: 'Cache entries, newest first',
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY,
            dag_id: DAG_ID,
            task_id: TASK_ID,
            team_name: { type: 'string' },
            expired: { type: 'boolean', description: 'Only entries whose TTL has passed' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const now = ctx.rt.clock.now();
      const filter: CacheFilter = { dagId: q.dag_id, taskId: q.task_id, teamName: q.team_name };
      if (q.expired) filter.expiredBefore = new Date(now.getTime() + 1);
      const all = (await (await backend()).list(filter))
        .map((e) => entryView(e, now))
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      return { cache_entries: pageOf(all, q), total_entries: all.length };
    },
  );

  app.get<{ Params: { key: string } }>(
    '/api/v2/cache/entries/:key',
    { schema: { tags: ['Cache'], summary: 'One entry: value, key components, producing task instance', params: KEY } },
    async (request) => {
      const entry = await resolveEntry(await backend(), request.params.key);
      return entryDetail(ctx.rt.db, entry, ctx.rt.clock.now(), false);
    },
  );

  app.delete<{ Params: { key: string } }>(
    '/api/v2/cache/entries/:key',
    {
      preHandler: writeGuard(ctx),
      schema: { tags: ['Cache'], summary: 'Invalidate an entry', security: BEARER, params: KEY },
    },
    async (request, reply) => {
      const b = await backend();
      const entry = await resolveEntry(b, request.params.key);
      if (!(await b.delete(entry.key))) throw new NotFoundError(`cache entry ${entry.key} was already removed`);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { since?: string } }>(
    '/api/v2/cache/stats',
    {
      schema: {
        tags: ['Cache'],
        summary: 'Hits, misses, hit rate, entries and time saved, overall and per DAG and task; hits/misses over time',
        querystring: {
          type: 'object',
          properties: { since: { type: 'string', description: 'A duration back (7d, 12h) or a date' } },
        },
      },
    },
    async (request) => {
      const now = ctx.rt.clock.now();
      const since = request.query.since === undefined ? null : parseAgeOrDate(request.query.since, now, 'since');
      const report = await cacheStats(ctx.rt.db, await backend(), since);
      const timeline = cacheTimeline(await cacheDecisionTimes(ctx.rt.db, since ?? new Date(0)), now);
      return { ...report, timeline };
    },
  );

  app.get<{ Querystring: ExplainQuery }>(
    '/api/v2/cache/explain',
    {
      schema: {
        tags: ['Cache'],
        summary: "A task's key and whether it would hit; on a miss, what differs from the closest entries",
        querystring: {
          type: 'object',
          required: ['dag_id', 'task_id'],
          properties: {
            dag_id: DAG_ID,
            task_id: TASK_ID,
            dag_run_id: RUN_ID,
            conf: { type: 'string', description: 'dag_run.conf of a new run, as JSON (default {})' },
            logical_date: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.dag_run_id !== undefined && (q.conf !== undefined || q.logical_date !== undefined))
        throw new UsageError('cache explain takes dag_run_id (a past run) or conf/logical_date (a new run), not both');
      const dag = await ctx.dags.dag(q.dag_id);
      const task = dag.tasks.get(q.task_id);
      if (!task) {
        const near = closestMatch(q.task_id, dag.topoOrder);
        throw new NotFoundError(
          `DAG '${dag.dagId}' has no task '${q.task_id}'${near ? `; did you mean '${near}'?` : ''} (its tasks: ${dag.topoOrder.join(', ')})`,
        );
      }
      const target: ExplainTarget =
        q.dag_run_id !== undefined
          ? { kind: 'run', runId: q.dag_run_id }
          : {
              kind: 'hypothetical',
              conf: parseConf(q.conf) as Record<string, Json>,
              logicalDate: q.logical_date ? parseDate(q.logical_date, 'logical_date') : ctx.rt.clock.now(),
            };
      const { core } = ctx.rt.settings;
      return explainTask(
        {
          db: ctx.rt.db,
          backend: await backend(),
          clock: ctx.rt.clock,
          cachingEnabled: core.taskCachingEnabled,
          checkTimeoutMs: core.taskCacheCheckTimeout * 1000,
        },
        dag,
        task,
        target,
      );
    },
  );
}
