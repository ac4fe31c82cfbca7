import { Command, Help } from 'commander';
import { COMMANDS, commandName, namedCommand } from '../../src/cli/command-table.js';

test("each top-level command's help line in the table is what its module registers", async () => {
  const help = new Help();
  for (const entry of COMMANDS) {
    const program = new Command('miniflow');
    (await entry.load())(program);
    const cmd = program.commands.find((c) => c.name() === commandName(entry));
    expect(cmd).toBeDefined();
    expect({ term: help.subcommandTerm(cmd!), description: cmd!.description() }).toEqual({
      term: entry.term,
      description: entry.description,
    });
  }
});

test('the command a command line names', () => {
  expect(namedCommand(['dags', 'list'])).toBe('dags');
  expect(namedCommand(['help', 'cache'])).toBe('cache');
  expect(namedCommand(['--help'])).toBe('--help');
  expect(namedCommand([])).toBeUndefined();
});
