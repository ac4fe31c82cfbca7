// Issue 14 point 3 at the executor: a child starts its task's work only after the scheduler has
// recorded its pid (the onStart hook resolved true); no go (false, a rejection, or a dead
// scheduler's closed pipe) and it exits without doing anything. Real children, compiled runners.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTaskTry } from '../../src/executor/child-process.js';
import type { TaskTrySpec } from '../../src/executor/types.js';
import { runnerPaths } from '../../src/util/paths.js';

let work: string;
let seq = 0;
beforeAll(() => {
  if (!existsSync(runnerPaths.node())) throw new Error(`${runnerPaths.node()} is missing: run \`npm run build\` first`);
  work = mkdtempSync(join(tmpdir(), 'miniflow-go-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spec(more: Partial<TaskTrySpec>): TaskTrySpec {
  const taskId = `t${++seq}`;
  return {
    dagId: 'go',
    runId: 'r',
    taskId,
    tryNumber: 1,
    taskType: 'BashOperator',
    opArgs: [],
    opKwargs: {},
    env: {},
    executionTimeout: null,
    logFile: join(work, 'logs', taskId, 'attempt=1.log'),
    ...more,
  };
}

const kinds = {
  bash: (marker: string) => spec({ bashCommand: `touch '${marker}'; echo done` }),
  node: (marker: string) =>
    spec({
      taskType: 'NodeOperator',
      callableFile: resolve('test/fixtures/executor/callables.mjs'),
      callableName: 'touch',
      opKwargs: { path: marker },
    }),
};

describe.each(Object.entries(kinds))('%s task', (_kind, make) => {
  test('its work waits for the pid commit, then runs', async () => {
    const marker = join(work, `m${++seq}`);
    let seenBeforeGo: boolean | null = null;
    const result = await runTaskTry(make(marker), {
      onStart: async () => {
        await sleep(700); // a slow commit (another writer holds the DB lock)
        seenBeforeGo = existsSync(marker);
        return true;
      },
    });
    expect(seenBeforeGo).toBe(false);
    expect(result).toMatchObject({ ok: true });
    expect(existsSync(marker)).toBe(true);
  });

  test.each([
    ['the try is no longer ours', () => Promise.resolve(false), 'not started: the task instance is no longer this try'],
    ['the pid cannot be recorded', () => Promise.reject(new Error('SQLITE_FULL')), 'its pid could not be recorded'],
  ])('no go when %s: it exits without doing the work', async (_why, onStart, error) => {
    const marker = join(work, `m${++seq}`);
    const result = await runTaskTry(make(marker), { onStart });
    expect(result.ok).toBe(false);
    expect(result.error).toContain(error);
    await sleep(300);
    expect(existsSync(marker)).toBe(false);
  });
});

test('a child whose go pipe closes (its scheduler died) exits on its own without doing the work', async () => {
  // The gate as the executor starts a command, spawned by hand so the pipe can be closed with no go.
  const marker = join(work, 'orphan');
  const child = spawn(
    'bash',
    ['-c', 'IFS= read -r _ <&3 || exit 97; exec "$@" 3<&-', 'miniflow-go', 'bash', '-c', `touch '${marker}'`],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] },
  );
  const code = await new Promise<number | null>((r) => {
    child.on('close', (c) => r(c));
    (child.stdio[3] as NodeJS.WritableStream & { destroy(): void }).destroy();
  });
  expect(code).toBe(97);
  expect(existsSync(marker)).toBe(false);
  const runner = spawn(process.execPath, [runnerPaths.node()], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
  const runnerCode = await new Promise<number | null>((r) => {
    runner.on('close', (c) => r(c));
    runner.stdin!.destroy();
  });
  expect(runnerCode).toBe(97);
});

test("a bash task's stdin is not the go pipe (a socket there makes bash source ~/.bashrc)", async () => {
  const result = await runTaskTry(spec({ bashCommand: '[ -S /dev/stdin ] && echo socket || echo not-a-socket' }));
  expect(result).toMatchObject({ ok: true, returnValue: 'not-a-socket' });
});
