/**
 * `miniflow bench --executor bullmq`: what sending tries through BullMQ costs next to the
 * LocalExecutor. Misses: the same wide bash DAG run with each executor (workers are real
 * `miniflow worker` processes on this machine); hits: a warm run with each, which should cost the
 * same since a hit never becomes a job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime.js';
import { packageRoot } from '../util/paths.js';
import { runPhase, type PhaseResult } from './phase.js';
import { round } from './stats.js';
import { writeSyntheticDag } from './synthetic-dag.js';

export interface ExecutorBenchOptions {
  tasks: number;
  /** Slots of the LocalExecutor, and of each worker (`--concurrency`). */
  parallelism: number;
  workerCounts: number[];
}

export interface ExecutorBenchRow {
  executor: 'LocalExecutor' | 'BullMQExecutor';
  workers: number | null;
  phase: 'miss' | 'hit';
  tasks: number;
  ok: boolean;
  wall_s: number | null;
  per_second: number | null;
  /** Wall time of the run per task instance, ms. */
  ms_per_task: number | null;
  jobs_enqueued: number;
}

export interface ExecutorBenchReport {
  tasks: number;
  parallelism: number;
  rows: ExecutorBenchRow[];
  /** (BullMQ with one worker - LocalExecutor) wall per miss, times the slots: what the queue adds per try. */
  dispatch_overhead_ms_per_task: number | null;
}

export async function runExecutorBench(o: ExecutorBenchOptions): Promise<ExecutorBenchReport> {
  const home = mkdtempSync(join(tmpdir(), 'miniflow-bench-exec-'));
  const dags = join(home, 'dags');
  mkdirSync(dags);
  const tag = randomBytes(4).toString('hex');
  const dagOf = (name: string) => writeSyntheticDag(dags, `bench_exec_${name}_${tag}`, 'wide', 'bash', o.tasks).dagId;
  const warmup = writeSyntheticDag(dags, `bench_exec_warmup_${tag}`, 'wide', 'bash', 10).dagId;
  const localDag = dagOf('local');
  const bullDags = new Map(o.workerCounts.map((n) => [n, dagOf(`bullmq_${n}w`)]));
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: dags,
    AIRFLOW__CORE__TASK_CACHING_ENABLED: 'True',
    AIRFLOW__CORE__TASK_CACHE_BACKEND: 'metadata_db',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: join(home, 'airflow.db'),
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: '',
    AIRFLOW__BULLMQ__QUEUE_PREFIX: `miniflow_bench_${tag}`,
  };
  const rows: ExecutorBenchRow[] = [];
  const workers: ChildProcess[] = [];
  try {
    const local = {
      ...base,
      AIRFLOW__CORE__PARALLELISM: String(o.parallelism),
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
    };
    await withRuntime(local, async (rt) => {
      await runPhase(rt, warmup, 'disabled');
      rows.push(row('LocalExecutor', null, 'miss', await runPhase(rt, localDag, 'cold')));
      rows.push(row('LocalExecutor', null, 'hit', await runPhase(rt, localDag, 'warm')));
    });
    for (const n of o.workerCounts) {
      while (workers.length < n) workers.push(await startWorker(base, o.parallelism, workers.length + 1));
      // The scheduler may enqueue what all workers can run at once: the workers are the bound.
      const env = {
        ...base,
        AIRFLOW__CORE__PARALLELISM: String(o.parallelism * n),
        AIRFLOW__CORE__EXECUTOR: 'BullMQExecutor',
      };
      await withRuntime(env, async (rt) => {
        rows.push(row('BullMQExecutor', n, 'miss', await runPhase(rt, bullDags.get(n)!, 'cold')));
        if (n === o.workerCounts[0]) rows.push(row('BullMQExecutor', n, 'hit', await runPhase(rt, localDag, 'warm')));
      });
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  }
  const localMiss = rows.find((r) => r.executor === 'LocalExecutor' && r.phase === 'miss');
  const oneWorker = rows.find((r) => r.executor === 'BullMQExecutor' && r.workers === 1 && r.phase === 'miss');
  const overhead =
    localMiss?.ms_per_task != null && oneWorker?.ms_per_task != null
      ? round((oneWorker.ms_per_task - localMiss.ms_per_task) * o.parallelism, 2)
      : null;
  return { tasks: o.tasks, parallelism: o.parallelism, rows, dispatch_overhead_ms_per_task: overhead };
}

async function withRuntime(env: NodeJS.ProcessEnv, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await Runtime.open(env);
  try {
    await rt.dags();
    await fn(rt);
  } finally {
    await rt.close();
  }
}

function row(
  executor: ExecutorBenchRow['executor'],
  workers: number | null,
  phase: 'miss' | 'hit',
  r: PhaseResult,
): ExecutorBenchRow {
  const expected = phase === 'miss' ? 'miss' : 'hit';
  const wallS = r.wallMs / 1000;
  return {
    executor,
    workers,
    phase,
    tasks: r.tasks,
    ok: r.state === 'success' && r.decisions[expected] === r.tasks,
    wall_s: round(wallS, 3),
    per_second: round(r.tasks / wallS, 1),
    ms_per_task: round(r.wallMs / r.tasks, 3),
    jobs_enqueued: r.executorSubmitted,
  };
}

function startWorker(env: NodeJS.ProcessEnv, concurrency: number, n: number): Promise<ChildProcess> {
  const bin = join(packageRoot(), 'bin', 'miniflow.js');
  const args = [bin, 'worker', '--concurrency', String(concurrency), '--hostname', `bench-worker-${n}`];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening on queues')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`bench worker ${n} exited (${code}) before listening: ${out}`)));
  });
}

export function renderExecutorBench(r: ExecutorBenchReport): string {
  const lines = [
    `Executor bench: ${r.tasks} bash tasks (wide), ${r.parallelism} slots per executor / worker`,
    '',
    'executor        workers  phase  ok   wall s   tasks/s   ms/task  jobs',
  ];
  for (const x of r.rows) {
    lines.push(
      [
        x.executor.padEnd(15),
        String(x.workers ?? '-').padStart(7),
        x.phase.padStart(6),
        (x.ok ? 'yes' : 'NO').padStart(4),
        String(x.wall_s).padStart(8),
        String(x.per_second).padStart(9),
        String(x.ms_per_task).padStart(9),
        String(x.jobs_enqueued).padStart(5),
      ].join(' '),
    );
  }
  lines.push(
    '',
    `Dispatch overhead per miss through BullMQ (1 worker vs LocalExecutor): ${r.dispatch_overhead_ms_per_task} ms`,
  );
  lines.push('ms/task = wall / tasks. A hit never becomes a job: jobs = 0 for hits with either executor.', '');
  return lines.join('\n');
}
