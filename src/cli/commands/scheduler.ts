import type { Command } from 'commander';
import { errorMessage } from '../../errors.js';
import { parsePositiveInt } from '../parse.js';
import { schedulerStartLine, schedulerStopLine } from '../scheduler-lines.js';
import { withRuntime } from '../with-runtime.js';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduler: picks up queued DAG runs and runs their tasks')
    .option('-n, --num-runs <n>', 'stop after this many loop iterations')
    .option('--exit-when-idle', 'stop once no queued or running DAG run is left')
    .action(async (opts: { numRuns?: string; exitWhenIdle?: boolean }) => {
      const numRuns = opts.numRuns === undefined ? undefined : parsePositiveInt(opts.numRuns, '--num-runs');
      const say = (line: string) => void process.stdout.write(line + '\n');
      await withRuntime(async (rt) => {
        const { scheduler, executor } = await rt.scheduler({ log: say });
        const stop = new AbortController();
        let signal: string | null = null;
        const onSignal = (name: NodeJS.Signals) => {
          // As Airflow's LocalExecutor on shutdown: running children are killed, their tries retried later.
          signal = name;
          executor.killAll();
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // Printed once the signals are handled: a SIGTERM after this line gets a stop line too.
        say(schedulerStartLine(rt.settings));
        try {
          const why = await scheduler.loop({ numRuns, untilIdle: opts.exitWhenIdle, signal: stop.signal });
          say(schedulerStopLine(why, { numRuns, signal }));
        } catch (err) {
          // The DB gone, a fault it cannot ride out: say why it stops, then the usual error line and exit.
          say(schedulerStopLine({ error: errorMessage(err) }, {}));
          throw err;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}
