import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NotFoundError, UsageError, errorMessage } from '../../errors.js';
import { VariableStore, envVariable } from '../../models/variables.js';
import { parseFormat, printJson, printTable } from '../output.js';
import { withRuntime } from '../with-runtime.js';

interface TeamOpt {
  team?: string;
}
const teamOf = (o: TeamOpt): string | null => o.team ?? null;
const TEAM_HELP = 'the team whose variable this is (multi_team mode; default: a global variable)';

/** `miniflow variables`: Airflow's Variables, as `airflow variables` manages them. */
export function registerVariables(program: Command): void {
  const variables = program.command('variables').description('key/value Variables templates read as var.value.KEY');

  variables
    .command('set')
    .description('set a variable (--json: VALUE must be JSON, stored as given)')
    .argument('<key>')
    .argument('<value>')
    .option('--json', 'check that VALUE is JSON', false)
    .option('--description <text>', 'a note on what the variable is for')
    .option('--team <team>', TEAM_HELP)
    .action(async (key: string, value: string, opts: TeamOpt & { json: boolean; description?: string }) => {
      if (opts.json) {
        try {
          value = JSON.stringify(JSON.parse(value));
        } catch (err) {
          throw new UsageError(`variable '${key}': --json value is not JSON (${errorMessage(err)})`);
        }
      }
      await withRuntime(async (rt) => {
        await new VariableStore(rt.db).set(key, value, teamOf(opts), rt.clock.now(), opts.description);
        process.stdout.write(`Variable ${key} created\n`);
      });
    });

  variables
    .command('get')
    .description('print a variable (AIRFLOW_VAR_<KEY> first, as Airflow)')
    .argument('<key>')
    .option('--default <value>', 'printed when the variable does not exist')
    .option('-j, --json', 'print the value parsed as JSON, pretty', false)
    .option('--team <team>', TEAM_HELP)
    .action(async (key: string, opts: TeamOpt & { default?: string; json: boolean }) => {
      await withRuntime(async (rt) => {
        const value = envVariable(key) ?? (await new VariableStore(rt.db).get(key, teamOf(opts)))?.val;
        if (value === undefined && opts.default === undefined) {
          throw new NotFoundError(`Variable ${key} does not exist${opts.team ? ` in team '${opts.team}'` : ''}`);
        }
        const out = value ?? opts.default!;
        process.stdout.write((opts.json && value !== undefined ? prettyJson(key, out) : out) + '\n');
      });
    });

  variables
    .command('list')
    .description('list variables (keys and values)')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--team <team>', TEAM_HELP)
    .action(async (opts: TeamOpt & { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const rows = await new VariableStore(rt.db).list(teamOf(opts));
        if (format === 'json') printJson(rows);
        else
          printTable(
            ['key', 'val', 'description', 'team'],
            rows.map((r) => [r.key, r.val, r.description, r.team_name]),
          );
      });
    });

  variables
    .command('delete')
    .description('delete a variable')
    .argument('<key>')
    .option('--team <team>', TEAM_HELP)
    .action(async (key: string, opts: TeamOpt) => {
      await withRuntime(async (rt) => {
        await new VariableStore(rt.db).delete(key, teamOf(opts));
        process.stdout.write(`Variable ${key} deleted\n`);
      });
    });

  variables
    .command('import')
    .description('set variables from a JSON file: {"KEY": value, ...} (non-string values stored as JSON)')
    .argument('<file>')
    .option('--team <team>', TEAM_HELP)
    .action(async (file: string, opts: TeamOpt) => {
      const entries = readVariablesFile(file);
      await withRuntime(async (rt) => {
        const store = new VariableStore(rt.db);
        for (const [key, value] of entries) await store.set(key, value, teamOf(opts), rt.clock.now());
        process.stdout.write(`${entries.length} of ${entries.length} variables successfully updated.\n`);
      });
    });

  variables
    .command('export')
    .description('write every variable to a JSON file, as Airflow does (JSON values as JSON)')
    .argument('<file>')
    .option('--team <team>', TEAM_HELP)
    .action(async (file: string, opts: TeamOpt) => {
      await withRuntime(async (rt) => {
        const rows = await new VariableStore(rt.db).list(teamOf(opts));
        const out: Record<string, unknown> = {};
        for (const r of rows) out[r.key] = parseOrText(r.val);
        writeFileSync(file, JSON.stringify(out, null, 4) + '\n');
        process.stdout.write(`${rows.length} variables successfully exported to ${file}\n`);
      });
    });
}

function prettyJson(key: string, value: string): string {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    throw new UsageError(`variable '${key}' is not JSON: read it without --json`);
  }
}

/** Airflow's export writes a JSON value as JSON and anything else as a string. */
function parseOrText(val: string): unknown {
  try {
    return JSON.parse(val);
  } catch {
    return val;
  }
}

function readVariablesFile(file: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot import variables from ${file}: ${errorMessage(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`cannot import variables from ${file}: expected a JSON object {"KEY": value, ...}`);
  }
  return Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}
