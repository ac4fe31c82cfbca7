import type { Command } from 'commander';
import { parsePositiveInt } from '../parse.js';
import { withRuntime } from '../with-runtime.js';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduler: picks up queued DAG runs and runs their tasks')
    .option('-n, --num-runs <n>', 'stop after this many loop iterations')
    .option('--exit-when-idle', 'stop once no queued or running DAG run is left')
    .action(async (opts: { numRuns?: string; exitWhenIdle?: boolean }) => {
      const numRuns = opts.numRuns === undefined ? undefined : parsePositiveInt(opts.numRuns, '--num-runs');
      await withRuntime(async (rt) => {
        const { scheduler, executor } = await rt.scheduler({ log: (line) => process.stdout.write(line + '\n') });
        const stop = new AbortController();
        const onSignal = () => {
          // As Airflow's LocalExecutor on shutdown: running children are killed, their tries retried later.
          executor.killAll();
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        await scheduler.loop({ numRuns, untilIdle: opts.exitWhenIdle, signal: stop.signal });
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
    });
}
