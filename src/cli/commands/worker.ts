import { hostname } from 'node:os';
import type { Command } from 'commander';
import { loadSettings } from '../../config/index.js';
import { UsageError } from '../../errors.js';
import { parsePositiveInt } from '../parse.js';

interface WorkerCliOpts {
  queues: string;
  concurrency: string;
  hostname?: string;
}

/** `miniflow worker`: runs task tries from BullMQ queues (`[core] executor = BullMQExecutor`); no metadata DB. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run task tries from BullMQ queues for schedulers with [core] executor = BullMQExecutor')
    .option('-q, --queues <names>', 'comma-separated queues to take tries from', 'default')
    .option('-c, --concurrency <n>', 'tries this worker runs at once', '4')
    .option(
      '--hostname <name>',
      "the worker's name, recorded as the tries' hostname (default: $MINIFLOW_WORKER_NAME, else this host's name)",
    )
    .action(async (opts: WorkerCliOpts) => {
      const queues = [...new Set(opts.queues.split(',').map((q) => q.trim()))].filter(Boolean);
      const bad = queues.find((q) => !/^[A-Za-z0-9_.-]+$/.test(q));
      if (queues.length === 0 || bad !== undefined)
        throw new UsageError(`--queues must list queue names of letters, digits, _ . and -, got '${opts.queues}'`);
      const concurrency = parsePositiveInt(opts.concurrency, '--concurrency');
      const name = opts.hostname ?? (process.env.MINIFLOW_WORKER_NAME || hostname());
      const say = (line: string) => void process.stdout.write(line + '\n');
      const { startWorker } = await import('../../executor/bullmq/worker.js'); // BullMQ loads only here
      const worker = await startWorker({ settings: loadSettings(), queues, concurrency, name, log: say });
      // Ends on SIGINT/SIGTERM once the running tries have finished (their outcomes are reported).
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      say(`worker ${name} stopping (${signal}): waiting for running tries to finish`);
      await worker.close();
      say(`worker ${name} stopped`);
    });
}
