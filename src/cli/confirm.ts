import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

/**
 * Asks on a terminal, as Airflow's confirmation prompts; without one (scripts, CI) a destructive
 * command must be told `--yes` and never waits for an answer that cannot come.
 */
export async function confirmOnTerminal(command: string, action: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`${command} would ${action}, but stdin is not a terminal to confirm it: pass --yes`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${action[0].toUpperCase()}${action.slice(1)}? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Commands that destroy everything they touch take no prompt: they refuse unless given `--yes`. */
export function requireYes(yes: boolean | undefined, command: string, what: string): void {
  if (!yes) throw new UsageError(`${command} ${what}; this cannot be undone: pass --yes to do it`);
}

/** `confirmOnTerminal`, and a clear refusal when the answer is no. */
export async function confirmOrRefuse(command: string, action: string): Promise<void> {
  if (!(await confirmOnTerminal(command, action))) throw new UsageError(`${command}: not confirmed, nothing changed`);
}
