import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Lines the scheduler writes into a try's log itself, for tries no child wrote one for: inputs that
 * failed to resolve (a new file), a try lost with its scheduler (appended to what the child wrote).
 * Each line is stamped the way a child's log lines are.
 */
export async function writeTryLog(file: string, now: Date, lines: string[], append = false): Promise<void> {
  const text =
    lines.map((l, i) => (i === 0 && !l.startsWith('[') ? `[${now.toISOString()}] {miniflow} ${l}` : l)).join('\n') +
    '\n';
  await mkdir(dirname(file), { recursive: true });
  await (append ? appendFile(file, text) : writeFile(file, text));
}
