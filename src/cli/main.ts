import { createRequire } from 'node:module';
import type * as commander from 'commander';
import { MiniflowError } from '../errors.js';
import { packageVersion } from '../util/paths.js';
import { COMMANDS, commandName, namedCommand } from './command-table.js';

// commander is CommonJS: required rather than imported, so no start-up scans its source for the
// names of its exports (what an ES import of a CommonJS package costs, on every command).
const { Command, CommanderError, Help } = createRequire(import.meta.url)('commander') as typeof commander;

/**
 * The program with the commands `args` needs: the named one registered for real, or (for
 * `--help`, a bare `miniflow`, an unknown command) a placeholder per command that only lists it.
 * Without `args`, every command is registered for real.
 */
export async function buildProgram(args?: readonly string[]): Promise<commander.Command> {
  const program = new Command('miniflow')
    .description(
      'A mini Airflow scheduler with task result caching. AIRFLOW_HOME selects the home folder (default ~/airflow).',
    )
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError(false);
  const name = args && namedCommand(args);
  const named = COMMANDS.find((c) => commandName(c) === name);
  if (!args || named) {
    for (const c of named ? [named] : COMMANDS) (await c.load(args))(program);
    return program;
  }
  // Placeholders are never run: no command was named. Help lists each with its usage.
  for (const c of COMMANDS) program.command(commandName(c)).description(c.description);
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => COMMANDS.find((c) => commandName(c) === cmd.name())?.term ?? help.subcommandTerm(cmd),
  });
  return program;
}

/** User mistakes become one line on stderr and exit 1; only bugs keep their stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv.slice(2))).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof MiniflowError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`miniflow: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  }
}

// Not awaited at the top level: the CLI bundle is CommonJS (scripts/build-cli.js); main never rejects.
void main(process.argv);
