/**
 * The runner side of the child protocol: the spec arrives as one JSON object on stdin and the
 * result leaves as one JSON line on fd 3, so the task's own stdout/stderr stay free for its log.
 * Only node: builtins here: a runner's start-up time is what a cache hit is measured against.
 */
import { writeSync } from 'node:fs';

/** fd 3 is a pipe the executor opens next to stdin/stdout/stderr. */
export const RESULT_FD = 3;

export async function readStdinJson<T>(): Promise<T> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  // No spec is no go: the scheduler died (or gave the try up) before recording this pid. Do nothing.
  if (text === '') process.exit(97);
  return JSON.parse(text) as T;
}

/** Writes the one result line and exits; exiting explicitly so timers left by user code cannot hold the try open. */
export function finish(result: { ok: true; value?: unknown } | { ok: false; error: string }): never {
  writeSync(RESULT_FD, JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}
