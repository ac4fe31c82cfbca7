import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { emptyReport, runBench, type BenchHooks, type BenchOptions } from '../../bench/bench.js';
import { runWholeProcess, type WholeProcessOptions } from '../../bench/process-bench.js';
import { renderExecutorBench, runExecutorBench } from '../../bench/executor-bench.js';
import { renderBenchReport } from '../../bench/report-table.js';
import { fileHashProbe, renderFileHashProbe } from '../../bench/file-hash-probe.js';
import { OPERATOR_KINDS, SHAPES, type OperatorKind, type Shape } from '../../bench/synthetic-dag.js';
import { UsageError } from '../../errors.js';
import { parseFormat, printJson } from '../output.js';
import { parsePositiveInt } from '../parse.js';

function parseNonNegativeInt(value: string, flag: string, max = MAX_TASKS): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a whole number >= 0, got '${value}'`);
  if (n > max) throw new UsageError(`${flag} is at most ${max}, got ${n}`);
  return n;
}

const MAX_TASKS = 10_000;

interface BenchCliOpts {
  tasks: string;
  shape: string;
  operator: string[];
  parallelism: string;
  db: string;
  dbConn?: string;
  backend: string;
  loopSizes: string;
  loopScaling: boolean;
  hitProbe: string;
  fileHashProbe?: boolean;
  probeFiles: string;
  probeFileMb: string;
  keepHome?: boolean;
  output: string;
  executor: string;
  workers: string;
  inProcess: boolean;
  wholeProcess: boolean;
  processSizes: string;
  repeat: string;
  slowRepeat: string;
  offMax: string;
  diamondFrom: string;
  ratioTasks: string;
  overheadTasks: string;
  overheadRepeat: string;
}

/** Whole-process runs go past the in-process bound: a warm 100,000-task `dags test` is a target. */
const MAX_PROCESS_TASKS = 100_000;

function parseWholeProcess(o: BenchCliOpts, parallelism: number, keepHome: boolean): WholeProcessOptions | null {
  if (!o.wholeProcess) return null;
  const bounded = (v: string, flag: string, zeroOk: boolean) => {
    const n = zeroOk ? parseNonNegativeInt(v, flag, MAX_PROCESS_TASKS) : parsePositiveInt(v, flag);
    if (n > MAX_PROCESS_TASKS) throw new UsageError(`${flag} is at most ${MAX_PROCESS_TASKS}, got ${n}`);
    return n;
  };
  const sizes = [...new Set(o.processSizes.split(',').map((s) => bounded(s.trim(), '--process-sizes', false)))];
  return {
    sizes: sizes.sort((a, b) => a - b),
    repeat: parsePositiveInt(o.repeat, '--repeat'),
    slowRepeat: parsePositiveInt(o.slowRepeat, '--slow-repeat'),
    offMax: bounded(o.offMax, '--off-max', true),
    diamondFrom: bounded(o.diamondFrom, '--diamond-from', false),
    ratioTasks: bounded(o.ratioTasks, '--ratio-tasks', true),
    overheadTasks: bounded(o.overheadTasks, '--overhead-tasks', true),
    overheadRepeat: parsePositiveInt(o.overheadRepeat, '--overhead-repeat'),
    parallelism,
    keepHome,
  };
}

/** `--operator bash --operator node` and `--operator bash,node` both work. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

function parseOptions(o: BenchCliOpts): BenchOptions {
  const tasks = parsePositiveInt(o.tasks, '--tasks');
  if (tasks > MAX_TASKS) throw new UsageError(`--tasks is at most ${MAX_TASKS}, got ${tasks}`);
  if (!(SHAPES as readonly string[]).includes(o.shape))
    throw new UsageError(`--shape must be one of ${SHAPES.join(', ')}, got '${o.shape}'`);
  const operators = [...new Set(o.operator.length > 0 ? o.operator : [...OPERATOR_KINDS])];
  for (const k of operators) {
    if (!(OPERATOR_KINDS as readonly string[]).includes(k))
      throw new UsageError(`--operator must be among ${OPERATOR_KINDS.join(', ')}, got '${k}'`);
  }
  if (o.db !== 'sqlite' && o.db !== 'postgres')
    throw new UsageError(`--db must be 'sqlite' or 'postgres', got '${o.db}'`);
  if (
    o.db === 'postgres' &&
    !(o.dbConn ?? process.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?? '').startsWith('postgres')
  ) {
    throw new UsageError(
      '--db postgres needs --db-conn postgresql://user:pass@host/db (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)',
    );
  }
  const loopSizes = o.loopScaling ? o.loopSizes.split(',').map((s) => parsePositiveInt(s.trim(), '--loop-sizes')) : [];
  if (loopSizes.some((n) => n > MAX_TASKS)) throw new UsageError(`--loop-sizes values are at most ${MAX_TASKS}`);
  return {
    tasks,
    shape: o.shape as Shape,
    operators: operators as OperatorKind[],
    parallelism: parsePositiveInt(o.parallelism, '--parallelism'),
    db: o.db,
    dbConn: o.dbConn,
    backend: o.backend,
    loopSizes,
    hitProbeTasks: parseNonNegativeInt(o.hitProbe, '--hit-probe'),
    keepHome: o.keepHome === true,
  };
}

/** A progress bar on stderr, only for a terminal (never in pipes, CI logs or -o json captures). */
function progressHooks(): { hooks: BenchHooks; stop: () => void } {
  if (!process.stderr.isTTY) return { hooks: {}, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {stage} [{bar}] {value}/{total} task instances',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    hooks: {
      onStage: (stage, total) => {
        if (started) bar.stop();
        bar.start(total, 0, { stage: stage.padEnd(14) });
        started = true;
      },
      onProgress: (done) => bar.update(done),
    },
    stop: () => started && bar.stop(),
  };
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'benchmark the scheduler and the task cache on synthetic DAGs (cache disabled, cold, warm), in a temporary AIRFLOW_HOME',
    )
    .option('-n, --tasks <n>', `tasks per DAG (1-${MAX_TASKS})`, '200')
    .option('--shape <shape>', `DAG shape: ${SHAPES.join(', ')} (layered)`, 'diamond')
    .option(
      '--operator <kinds>',
      `operator kinds, repeatable or comma-separated: ${OPERATOR_KINDS.join(', ')} (default: all)`,
      collect,
      [],
    )
    .option('-p, --parallelism <n>', 'executor slots ([core] parallelism)', '4')
    .option('--db <engine>', 'metadata DB: sqlite (a temporary file) or postgres', 'sqlite')
    .option('--db-conn <url>', 'for --db postgres: the connection URL (default: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)')
    .option(
      '--backend <name>',
      'cache backend ([core] task_cache_backend): metadata_db, redis or module.js:Export',
      'metadata_db',
    )
    .option('--loop-sizes <list>', 'task-instance counts for the scheduler loop-time table', '100,1000,10000')
    .option('--no-loop-scaling', 'skip the scheduler loop-time table')
    .option(
      '--hit-probe <n>',
      'tasks in the serial hit-cost probe (a bash chain, one hit at a time); 0 skips it',
      '200',
    )
    .option('--file-hash-probe', 'only measure one cache.input_files check over many large files, cold and warm')
    .option('--probe-files <n>', 'for --file-hash-probe: how many files', '100')
    .option('--probe-file-mb <n>', 'for --file-hash-probe: MB per file', '10')
    .option('--keep-home', 'keep the temporary AIRFLOW_HOME (its DB and logs) and print its path')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--executor <name>', 'local (the cache bench), or bullmq: BullMQ workers vs the LocalExecutor', 'local')
    .option('--workers <list>', 'for --executor bullmq: worker counts to measure misses with', '1,2,4')
    .option('--no-in-process', 'skip the in-process phases (operator kinds, hit probe, loop scaling, rendering)')
    .option('--no-whole-process', 'skip the whole-process section (`dags test` and start-up as child processes)')
    .option(
      '--process-sizes <list>',
      'whole process: task counts of the wide Node DAGs run cold then warm (full set: 1,1000,10000)',
      '1,1000',
    )
    .option('--repeat <n>', 'whole process: runs per warm run, start-up and floor (median reported)', '3')
    .option('--slow-repeat <n>', 'whole process: runs per cold and caching-off measure', '1')
    .option('--off-max <n>', 'whole process: caching-off runs only up to this many tasks', '1000')
    .option('--diamond-from <n>', 'whole process: sizes from this up also run as a layered diamond', '10000')
    .option('--ratio-tasks <n>', 'whole process: warm vs caching-off ratio on this many Node tasks; 0 skips', '250')
    .option(
      '--overhead-tasks <n>',
      "whole process: cold-run overhead, caching on vs off, on this many bash 'true' tasks; 0 skips",
      '1000',
    )
    .option(
      '--overhead-repeat <n>',
      'whole process: pairs of cold-overhead runs (on and off back to back, order alternating; median of the pairs)',
      '5',
    )
    .action(async (raw: BenchCliOpts) => {
      const format = parseFormat(raw.output);
      if (raw.executor !== 'local' && raw.executor !== 'bullmq')
        throw new UsageError(`--executor must be 'local' or 'bullmq', got '${raw.executor}'`);
      if (raw.executor === 'bullmq') {
        const tasks = parsePositiveInt(raw.tasks, '--tasks');
        if (tasks > MAX_TASKS) throw new UsageError(`--tasks is at most ${MAX_TASKS}, got ${tasks}`);
        const workerCounts = raw.workers.split(',').map((w) => parsePositiveInt(w.trim(), '--workers'));
        const parallelism = parsePositiveInt(raw.parallelism, '--parallelism');
        const report = await runExecutorBench({ tasks, parallelism, workerCounts });
        if (format === 'json') printJson(report);
        else process.stdout.write(renderExecutorBench(report));
        if (report.rows.some((r) => !r.ok)) process.exitCode = 1;
        return;
      }
      if (raw.fileHashProbe) {
        const probe = await fileHashProbe({
          files: parsePositiveInt(raw.probeFiles, '--probe-files'),
          fileMb: parsePositiveInt(raw.probeFileMb, '--probe-file-mb'),
        });
        if (format === 'json') printJson({ file_hash_probe: probe });
        else process.stdout.write(renderFileHashProbe(probe));
        if (!probe.ok) process.exitCode = 1;
        return;
      }
      const options = parseOptions(raw);
      const whole = parseWholeProcess(raw, options.parallelism, options.keepHome);
      const { hooks, stop } = progressHooks();
      let report;
      try {
        report = raw.inProcess ? await runBench(options, hooks) : emptyReport(options);
        if (whole) report.whole_process = await runWholeProcess(whole, { onStage: (s) => hooks.onStage?.(s, 0) });
      } finally {
        stop();
      }
      if (format === 'json') printJson(report);
      else process.stdout.write(renderBenchReport(report));
      if (
        report.results.some((r) => !r.ok) ||
        report.serial_hit_cost_ms?.ok === false ||
        report.whole_process?.ok === false
      ) {
        process.stderr.write(
          'warning: some benchmark runs did not end as expected (see "runs ok"); their numbers are suspect\n',
        );
        process.exitCode = 1;
      }
    });
}
