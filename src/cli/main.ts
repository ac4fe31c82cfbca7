import { Command, CommanderError } from 'commander';
import { MiniflowError } from '../errors.js';
import { registerConfig, registerDb } from './commands/admin.js';
import { registerApiServer } from './commands/api-server.js';
import { registerBench } from './commands/bench.js';
import { registerCache } from './commands/cache.js';
import { registerDags } from './commands/dags.js';
import { registerScheduler } from './commands/scheduler.js';
import { registerTasks } from './commands/tasks.js';
import { registerXCom } from './commands/xcom.js';
import { registerVariables } from './commands/variables.js';
import { configureColour } from './output.js';

export function buildProgram(): Command {
  const program = new Command('miniflow')
    .description(
      'A mini Airflow scheduler with task result caching. AIRFLOW_HOME selects the home folder (default ~/airflow).',
    )
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError(false);
  registerDb(program);
  registerDags(program);
  registerTasks(program);
  registerXCom(program);
  registerConfig(program);
  registerScheduler(program);
  registerBench(program);
  registerCache(program);
  registerVariables(program);
  registerApiServer(program);
  return program;
}

/** User mistakes become one line on stderr and exit 1; only bugs keep their stack trace. */
export async function main(argv: string[]): Promise<void> {
  configureColour();
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof MiniflowError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`miniflow: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  }
}

await main(process.argv);
