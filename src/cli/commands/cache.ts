import type { Command } from 'commander';
import {
  describeFilter,
  entryDetail,
  entryView,
  gcExpired,
  parseAgeOrDate,
  resolveEntry,
  SHORT_KEY,
  type EntryView,
} from '../../cache/admin.js';
import { explainTask, type ExplainTarget } from '../../cache/explain.js';
import { cacheStats, type StatsRow } from '../../cache/stats.js';
import type { CacheBackend, CacheFilter } from '../../cache/types.js';
import type { Runtime } from '../../runtime.js';
import type { Json } from '../../dag/model.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { colourDecision, parseFormat, printJson, printTable } from '../output.js';
import { printEntryDetail } from '../cache-show.js';
import { parseConf, parseDate, parseMapIndex } from '../parse.js';
import { tiLabel } from '../../util/keys.js';
import { withRuntime } from '../with-runtime.js';
import { registerCacheAccept } from './cache-accept.js';
import { confirmOnTerminal } from '../confirm.js';
import { DbFileHashMemo } from '../../models/file-hash-memo.js';
import { closestMatch } from '../../util/closest.js';

const OUTPUT = ['-o, --output <format>', 'table or json', 'table'] as const;

interface FilterOpts {
  dagId?: string;
  taskId?: string;
  team?: string;
}

function baseFilter(o: FilterOpts): CacheFilter {
  return { dagId: o.dagId, taskId: o.taskId, teamName: o.team };
}

const dash = (v: string | null | undefined) => v ?? '';

/**
 * `--dag-id` must name a DAG that is loaded now or that still has entries (a DAG whose file was
 * removed stays listable and clearable); anything else is a typo, said with the closest DAG id.
 */
async function checkDagFilter(rt: Runtime, backend: CacheBackend, dagId: string | undefined): Promise<void> {
  if (dagId === undefined) return;
  let loaded: string[] = [];
  try {
    loaded = (await rt.dagListing()).listed().map((d) => d.dagId);
  } catch {
    // A DAG folder that cannot be read does not stop cache administration: the entries decide.
  }
  if (loaded.includes(dagId)) return;
  if ((await backend.stats({ dagId })).entries > 0) return;
  const near = closestMatch(dagId, loaded);
  throw new NotFoundError(
    `DAG '${dagId}' is not a loaded DAG and has no cache entries${near ? `; did you mean '${near}'?` : ''} (see: miniflow dags list, miniflow cache list)`,
  );
}

function statsTable(rows: (StatsRow & { dag_id?: string; task_id?: string })[], withTask: boolean): void {
  const head = [
    ...(withTask ? ['dag_id', 'task_id'] : ['dag_id']),
    'hits',
    'misses',
    'bypasses',
    'hit rate',
    'entries',
    'bytes',
    'time saved (s)',
  ];
  printTable(
    head,
    rows.map((r) => [
      ...(withTask ? [r.dag_id, r.task_id] : [r.dag_id]),
      r.hits,
      r.misses,
      r.bypasses,
      r.hit_rate === null ? '-' : `${(r.hit_rate * 100).toFixed(1)}%`,
      r.entries,
      r.bytes,
      r.time_saved.toFixed(3),
    ]),
  );
}

export function registerCache(program: Command): void {
  const cache = program.command('cache').description('inspect, explain and clean the task result cache');
  registerCacheAccept(cache);

  cache
    .command('list')
    .description('list cache entries')
    .option('--dag-id <dag_id>', 'only entries of this DAG')
    .option('--task-id <task_id>', 'only entries of this task')
    .option('--team <team>', 'only entries of this team')
    .option('--expired', 'only entries whose TTL has passed')
    .option(...OUTPUT)
    .action(async (opts: FilterOpts & { expired?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const now = rt.clock.now();
        const filter = baseFilter(opts);
        if (opts.expired) filter.expiredBefore = new Date(now.getTime() + 1);
        const backend = await rt.cacheBackend();
        await checkDagFilter(rt, backend, opts.dagId);
        const views: EntryView[] = (await backend.list(filter)).map((e) => entryView(e, now));
        if (format === 'json') return printJson(views);
        printTable(
          ['key', 'dag_id', 'task_id', 'team', 'created', 'expires', 'size', 'hits', 'last hit', 'produced by run'],
          views.map((v) => [
            v.short_key,
            v.dag_id,
            tiLabel({ task_id: v.task_id, map_index: v.map_index }),
            dash(v.team_name),
            v.created_at,
            v.expires_at ? `${v.expires_at}${v.expired ? ' (expired)' : ''}` : 'never',
            v.size_bytes,
            v.hits,
            dash(v.last_hit_at),
            v.source_run_id,
          ]),
          { noun: 'cache entries' },
        );
      });
    });

  cache
    .command('show')
    .description('show one entry: value, key components and the task instance that produced it')
    .argument('<key>', `full key or a unique prefix of at least 6 characters`)
    .option('--full', 'print the value and every key component whole (default: cut to the terminal width)')
    .option(...OUTPUT)
    .action(async (keyArg: string, opts: { full?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const entry = await resolveEntry(await rt.cacheBackend(), keyArg);
        // `-o json` is never cut: scripts get every value whole.
        const full = opts.full === true || format === 'json';
        const d = await entryDetail(rt.db, entry, rt.clock.now(), full);
        const notFollowed = await notFollowedImports(rt, entry.dagId, entry.taskId);
        if (format === 'json') return printJson({ ...d, not_followed: notFollowed });
        printEntryDetail(d, full);
        if (notFollowed.length > 0)
          process.stdout.write(
            `imports not followed (not in the source hash; bump cache.version when they change):\n` +
              notFollowed.map((n) => `  not followed: ${n}\n`).join(''),
          );
      });
    });

  cache
    .command('invalidate')
    .description('remove one entry (the next run of its task misses and stores again)')
    .argument('<key>', 'full key or a unique prefix of at least 6 characters')
    .option(...OUTPUT)
    .action(async (keyArg: string, opts: { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const backend = await rt.cacheBackend();
        const entry = await resolveEntry(backend, keyArg);
        if (!(await backend.delete(entry.key))) throw new NotFoundError(`cache entry ${entry.key} was already removed`);
        if (format === 'json') printJson({ removed: 1, key: entry.key, dag_id: entry.dagId, task_id: entry.taskId });
        else process.stdout.write(`Invalidated cache entry ${entry.key} (${entry.dagId}.${entry.taskId}).\n`);
      });
    });

  cache
    .command('clear')
    .description('remove entries by DAG, task, team or age (or --all)')
    .option('--dag-id <dag_id>', 'entries of this DAG')
    .option('--task-id <task_id>', 'entries of this task')
    .option('--team <team>', 'entries of this team')
    .option('--older-than <age>', 'entries created before this: a duration (7d, 12h, 30m, 3600s) or a date')
    .option('--all', 'every entry')
    .option('-y, --yes', 'do not ask for confirmation')
    .option(...OUTPUT)
    .action(async (opts: FilterOpts & { olderThan?: string; all?: boolean; yes?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      const filtered = [opts.dagId, opts.taskId, opts.team, opts.olderThan].some((v) => v !== undefined);
      if (!filtered && !opts.all)
        throw new UsageError('cache clear needs a filter (--dag-id, --task-id, --team, --older-than) or --all');
      if (filtered && opts.all) throw new UsageError('cache clear takes either filters or --all, not both');
      await withRuntime(async (rt) => {
        const filter = baseFilter(opts);
        if (opts.olderThan !== undefined)
          filter.olderThan = parseAgeOrDate(opts.olderThan, rt.clock.now(), '--older-than');
        const backend = await rt.cacheBackend();
        await checkDagFilter(rt, backend, opts.dagId);
        const what = describeFilter(filter);
        if (!opts.yes) {
          const { entries } = await backend.stats(filter);
          if (
            !(await confirmOnTerminal(
              'cache clear',
              `remove ${entries} cache entr${entries === 1 ? 'y' : 'ies'} (${what})`,
            ))
          ) {
            process.stdout.write('Nothing removed.\n');
            return;
          }
        }
        const removed = await backend.clear(filter);
        if (format === 'json') printJson({ removed, filter: what });
        else process.stdout.write(`Removed ${removed} cache entr${removed === 1 ? 'y' : 'ies'} (${what}).\n`);
      });
    });

  cache
    .command('gc')
    .description('remove expired entries (the scheduler also does this every [core] task_cache_gc_interval seconds)')
    .option(...OUTPUT)
    .action(async (opts: { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const now = rt.clock.now();
        const removed = await gcExpired(await rt.cacheBackend(), now);
        if (format === 'json') printJson({ removed, now: now.toISOString() });
        else process.stdout.write(`Removed ${removed} expired cache entr${removed === 1 ? 'y' : 'ies'}.\n`);
      });
    });

  cache
    .command('stats')
    .description('hits, misses, hit rate, entries, bytes and time saved, overall and per DAG and task')
    .option('--since <age>', 'only decisions after this: a duration (7d, 12h, 30m, 3600s) or a date')
    .option(...OUTPUT)
    .action(async (opts: { since?: string; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const since = opts.since === undefined ? null : parseAgeOrDate(opts.since, rt.clock.now(), '--since');
        const report = await cacheStats(rt.db, await rt.cacheBackend(), since);
        if (format === 'json') return printJson(report);
        const o = report.overall;
        process.stdout.write(
          `Backend ${report.backend}${since ? `, decisions since ${report.since}` : ''}: ${o.hits} hit(s), ${o.misses} miss(es), ${o.bypasses} bypass(es), ` +
            `hit rate ${o.hit_rate === null ? '-' : `${(o.hit_rate * 100).toFixed(1)}%`}, ${o.entries} entr${o.entries === 1 ? 'y' : 'ies'} (${o.bytes} bytes), ` +
            `${o.time_saved.toFixed(3)}s saved${o.avg_check_ms === null ? '' : `, mean check ${o.avg_check_ms.toFixed(3)} ms`}` +
            `${o.evictions ? `, ${o.evictions} evicted (${o.evicted_bytes} bytes)` : ''}\n`,
        );
        if (report.per_dag.length) statsTable(report.per_dag, false);
        if (report.per_task.length) statsTable(report.per_task, true);
      });
    });

  cache
    .command('explain')
    .description(
      'compute the key a task would have and say whether it would hit; on a miss, name what differs from the closest entries',
    )
    .argument('<dag_id>')
    .argument('<task_id>')
    .option('--run-id <run_id>', 'explain this past run')
    .option('--conf <json>', 'explain a run triggered with this dag_run.conf (default: {})')
    .option('--logical-date <date>', 'logical date of that run (default: now)')
    .option('--full', 'print every key component and differing value whole (default: values cut to 80 characters)')
    .option('--map-index <n>', "a mapped task's instance (0..n-1): its element's key")
    .option(...OUTPUT)
    .action(
      async (
        dagId: string,
        taskId: string,
        opts: {
          runId?: string;
          conf?: string;
          logicalDate?: string;
          mapIndex?: string;
          full?: boolean;
          output: string;
        },
      ) => {
        const mapIndex = parseMapIndex(opts.mapIndex);
        const format = parseFormat(opts.output);
        if (opts.runId !== undefined && (opts.conf !== undefined || opts.logicalDate !== undefined)) {
          throw new UsageError(
            'cache explain takes --run-id (a past run) or --conf/--logical-date (a new run), not both',
          );
        }
        await withRuntime(async (rt) => {
          const dag = await rt.dag(dagId);
          const task = dag.tasks.get(taskId);
          if (!task) {
            const near = closestMatch(taskId, dag.topoOrder);
            throw new NotFoundError(
              `DAG '${dagId}' has no task '${taskId}'${near ? `; did you mean '${near}'?` : ''} (its tasks: ${dag.topoOrder.join(', ')})`,
            );
          }
          const target: ExplainTarget =
            opts.runId !== undefined
              ? { kind: 'run', runId: opts.runId, mapIndex }
              : {
                  kind: 'hypothetical',
                  conf: parseConf(opts.conf) as Record<string, Json>,
                  logicalDate: opts.logicalDate ? parseDate(opts.logicalDate, '--logical-date') : rt.clock.now(),
                  mapIndex,
                };
          const { core } = rt.settings;
          const report = await explainTask(
            {
              db: rt.db,
              backend: await rt.cacheBackend(),
              clock: rt.clock,
              cachingEnabled: core.taskCachingEnabled,
              checkTimeoutMs: core.taskCacheCheckTimeout * 1000,
              // `-o json` is never cut.
              valueChars: opts.full || format === 'json' ? Infinity : undefined,
              fileMemo: new DbFileHashMemo(rt.db),
            },
            dag,
            task,
            target,
          );
          if (format === 'json') return printJson(report);
          const verdict =
            report.key === null
              ? colourDecision('off')
              : report.would_hit
                ? colourDecision('hit')
                : colourDecision(report.decision);
          const lines = [
            `${dagId}.${tiLabel({ task_id: taskId, map_index: mapIndex })} in ${report.run.hypothetical ? 'a new run' : 'run'} ${report.run.run_id}: ${verdict}`,
            ...(report.key ? [`key: ${report.key}`] : []),
            ...report.reasons.map((r) => `  - ${r}`),
          ];
          if (report.closest && !report.would_hit)
            lines.push(
              `closest entry: ${report.closest.key.slice(0, SHORT_KEY)} (run ${report.closest.source_run_id}, of ${report.candidates} for this task)`,
            );
          process.stdout.write(lines.join('\n') + '\n');
          if (opts.full && report.components.length > 0) {
            process.stdout.write('components:\n');
            printTable(
              ['component', 'hash', 'value'],
              report.components.map((c) => [c.name, c.hash.slice(0, SHORT_KEY), JSON.stringify(c.value)]),
              { full: true },
            );
          }
        });
      },
    );
}

/** Imports of the task's code the source hash could not follow (issue 13.5), from the DAG as loaded now. */
async function notFollowedImports(rt: Runtime, dagId: string, taskId: string): Promise<string[]> {
  const dag = await rt.dag(dagId).catch(() => undefined);
  return dag?.tasks.get(taskId)?.sourceNotFollowed ?? [];
}
