// The spawn helper (src/executor/spawn-helper.ts): every executor test again with each child forked
// by the helper, then what is the helper's own: children really are its, output is paced through
// it, and its death fails only the tries in flight. Real processes, compiled helper in dist/.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTaskTry } from '../../src/executor/child-process.js';
import type { TaskTrySpec } from '../../src/executor/types.js';
import { runnerPaths } from '../../src/util/paths.js';

process.env.MINIFLOW_SPAWN_HELPER = 'always';
await import('./executor.test.js');
await import('./executor-go-signal.test.js');
await import('./executor-output-limits.test.js');

describe('the spawn helper', () => {
  let work: string;
  let seq = 0;
  beforeAll(() => {
    if (!existsSync(runnerPaths.spawnHelper()))
      throw new Error(`${runnerPaths.spawnHelper()} is missing: npm run build`);
    work = mkdtempSync(join(tmpdir(), 'miniflow-helper-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const bash = (bashCommand: string): TaskTrySpec => {
    const taskId = `h${++seq}`;
    return {
      dagId: 'helper',
      runId: 'r',
      taskId,
      tryNumber: 1,
      taskType: 'BashOperator',
      bashCommand,
      opArgs: [],
      opKwargs: {},
      env: {},
      executionTimeout: null,
      logFile: join(work, taskId, 'attempt=1.log'),
    };
  };

  /** The pid of the process that forked the task: the helper, not this one. */
  async function helperPid(): Promise<number> {
    const r = await runTaskTry(bash('echo $PPID'));
    expect(r.ok).toBe(true);
    return Number(r.returnValue);
  }

  test("forks the task's child, not the scheduler", async () => {
    const pid = await helperPid();
    expect(pid).not.toBe(process.pid);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The helper is this process's child.
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])).toBe(process.pid);
  });

  test('relays large output whole and in order', async () => {
    const r = await runTaskTry(bash('seq 1 200000; echo last'));
    expect(r).toMatchObject({ ok: true, returnValue: 'last' });
    const lines = readFileSync(join(work, `h${seq}`, 'attempt=1.log'), 'utf8').split('\n');
    const first = lines.indexOf('1');
    expect(lines.slice(first, first + 200001)).toEqual([
      ...Array.from({ length: 200000 }, (_, i) => String(i + 1)),
      'last',
    ]);
  });

  test('its death fails the tries in flight (their children killed), and the next try gets a new one', async () => {
    const pid = await helperPid();
    const marker = join(work, 'after-death');
    const inFlight = runTaskTry(bash(`sleep 3; touch '${marker}'`));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const r = await inFlight;
    expect(r.ok).toBe(false);
    expect(r.error).toContain('the spawn helper that started it died');
    await new Promise((r) => setTimeout(r, 3500));
    expect(existsSync(marker)).toBe(false);
    const next = await helperPid();
    expect(next).not.toBe(pid);
  });
});
