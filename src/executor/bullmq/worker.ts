/**
 * `miniflow worker`: takes task tries from BullMQ queues and runs each exactly as the LocalExecutor
 * does (runTaskTry: same runners, environment allowlist, timeouts, output bounds). It never opens
 * the metadata DB: the outcome, with the try's log, is the job's return value.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import PQueue from 'p-queue';
import type { Settings } from '../../config/settings.js';
import { errorMessage } from '../../errors.js';
import { runTaskTry } from '../child-process.js';
import { outcomeOf, lostResult, type TryJobData, type TryJobOutcome } from './jobs.js';
import { WorkerBundle } from './worker-bundle.js';

export interface WorkerOptions {
  settings: Settings;
  queues: string[];
  /** Tries this worker runs at once, over all its queues. */
  concurrency: number;
  /** Recorded as the tries' hostname. */
  name: string;
  log: (line: string) => void;
}

export interface RunningWorker {
  /** Stops taking jobs and waits for the running tries to finish. */
  close(): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const { settings } = o;
  const bundle = new WorkerBundle(settings, o.name);
  const logDir = mkdtempSync(join(tmpdir(), 'miniflow-worker-'));
  // One bound over all queues; each BullMQ Worker takes no more than that either.
  const slots = new PQueue({ concurrency: o.concurrency });
  const limits = { maxLogBytes: settings.logging.maxLogBytesPerTry, maxXcomBytes: settings.core.maxXcomBytes };
  const connections: Redis[] = [];
  const url = settings.bullmq.redisUrl || settings.redis.url;

  const processTry = async (job: Job<TryJobData>): Promise<TryJobOutcome> => {
    const { spec } = job.data;
    const logFile = join(logDir, `${job.id ?? 'job'}.log`);
    const found = bundle.find(spec.dagId, spec.taskId, spec.sourceHash);
    if (!found.ok) {
      o.log(`refused try ${spec.tryNumber} of ${spec.dagId}.${spec.taskId}: ${found.error}`);
      const line = `[${new Date().toISOString()}] {miniflow} ERROR - Task failed: ${found.error}\n`;
      return outcomeOf(lostResult(new Date(), found.error, o.name), o.name, line);
    }
    writeFileSync(
      logFile,
      `[${new Date().toISOString()}] {miniflow} INFO - Running on host ${o.name} (miniflow worker, queue ${job.queueName})\n`,
    );
    // The callable's path is this machine's copy of the bundle, not the scheduler's.
    const { callableFile, callableName } = found.task;
    const result = await runTaskTry(
      { ...spec, callableFile, callableName, logFile },
      {
        onStart: (pid) => {
          o.log(`running try ${spec.tryNumber} of ${spec.dagId}.${spec.taskId} (pid ${pid})`);
          void job.updateProgress({ pid, hostname: o.name }).catch(() => undefined);
        },
      },
      limits,
    );
    const log = readAndRemove(logFile);
    o.log(
      `try ${spec.tryNumber} of ${spec.dagId}.${spec.taskId}: ${result.ok ? 'success' : `failed: ${result.error}`}`,
    );
    return outcomeOf(result, o.name, log);
  };

  const workers = o.queues.map((queue) => {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    connections.push(connection);
    const lockMs = settings.bullmq.lockDuration * 1000;
    const worker = new Worker<TryJobData, TryJobOutcome>(queue, (job) => slots.add(() => processTry(job)), {
      connection,
      prefix: settings.bullmq.queuePrefix,
      concurrency: o.concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died fails instead of running again: the scheduler's retries decide.
      maxStalledCount: 0,
    });
    worker.on('error', (err) => o.log(`WARNING queue ${queue}: ${errorMessage(err)}`));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  o.log(`worker ${o.name} listening on queues ${o.queues.join(', ')} (concurrency ${o.concurrency})`);
  return {
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      for (const c of connections) c.disconnect();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

function readAndRemove(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return `[miniflow] the worker could not read back this try's log: ${errorMessage(err)}\n`;
  } finally {
    rmSync(file, { force: true });
  }
}
