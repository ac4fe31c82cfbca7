import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every top-level command, in help order: how its help line reads, and the module that registers
 * it. Only the module of the command a command line names is imported (a `dags list` never loads
 * the API server, BullMQ or the bench); `miniflow --help` imports none and lists these lines.
 * `load` gets the command line (without node and script) when there is one, so a module may
 * import only what that line needs (`dags list` loads none of the other `dags` subcommands);
 * without it, the command is registered whole.
 * test/unit/cli-command-table.test.ts checks each line against what its module registers.
 */
export const COMMANDS: readonly {
  term: string;
  description: string;
  load: (args?: readonly string[]) => Promise<Register>;
}[] = [
  {
    term: 'db',
    description: 'the metadata database',
    load: async () => (await import('./commands/admin.js')).registerDb,
  },
  {
    term: 'dags',
    description: 'DAG files, runs and tests',
    load: async (args) => (await import('./commands/dags.js')).dagsRegistrar(args),
  },
  {
    term: 'tasks',
    description: 'task instances of DAG runs',
    load: async () => (await import('./commands/tasks.js')).registerTasks,
  },
  {
    term: 'xcom',
    description: 'values tasks pushed',
    load: async () => (await import('./commands/xcom.js')).registerXCom,
  },
  {
    term: 'config',
    description: 'airflow.cfg and AIRFLOW__SECTION__KEY settings',
    load: async () => (await import('./commands/admin.js')).registerConfig,
  },
  {
    term: 'version',
    description: "print miniflow's version",
    load: async () => (await import('./commands/info.js')).registerVersion,
  },
  {
    term: 'info [options]',
    description: 'versions, platform, AIRFLOW_HOME, DAGs folder, metadata DB (redacted), executor, cache backend',
    load: async () => (await import('./commands/info.js')).registerInfoCommand,
  },
  {
    term: 'scheduler [options]',
    description: 'run the scheduler: picks up queued DAG runs and runs their tasks',
    load: async () => (await import('./commands/scheduler.js')).registerScheduler,
  },
  {
    term: 'bench [options]',
    description:
      'benchmark the scheduler and the task cache on synthetic DAGs (cache disabled, cold, warm), in a temporary AIRFLOW_HOME',
    load: async () => (await import('./commands/bench.js')).registerBench,
  },
  {
    term: 'cache',
    description: 'inspect, explain and clean the task result cache',
    load: async () => (await import('./commands/cache.js')).registerCache,
  },
  {
    term: 'variables',
    description: 'key/value Variables templates read as var.value.KEY',
    load: async () => (await import('./commands/variables.js')).registerVariables,
  },
  {
    term: 'api-server [options]',
    description: 'serve the REST API (/api/v2/) and the web UI; run it beside `miniflow scheduler`',
    load: async () => (await import('./commands/api-server.js')).registerApiServer,
  },
  {
    term: 'worker [options]',
    description: 'run task tries from BullMQ queues for schedulers with [core] executor = BullMQExecutor',
    load: async () => (await import('./commands/worker.js')).registerWorker,
  },
];

/** A command's name: the first word of its help term. */
export const commandName = (c: { term: string }) => c.term.split(' ')[0];

/**
 * The top-level command a command line (without node and script) names, if any: its first word
 * (`miniflow help dags` names dags). A leading flag (-h, -V) is the program's own and wins.
 */
export function namedCommand(args: readonly string[]): string | undefined {
  return args[0] === 'help' ? args[1] : args[0];
}
