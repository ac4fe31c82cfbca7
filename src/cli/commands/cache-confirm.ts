import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../errors.js';

/** Asks on a terminal; without one (scripts, CI) a destructive command must be told `--yes`, never wait. */
export async function confirm(action: string, command = 'cache clear'): Promise<boolean> {
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

/** `confirm`, and a clear refusal when the answer is no. */
export async function confirmOrRefuse(command: string, action: string): Promise<void> {
  if (!(await confirm(action, command))) throw new UsageError(`${command}: not confirmed, nothing changed`);
}
