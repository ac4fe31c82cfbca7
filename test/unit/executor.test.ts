// Real child processes against the compiled runners in dist/ (`npm run build` first).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTaskTry } from '../../src/executor/child-process.js';
import { LocalExecutor } from '../../src/executor/local-executor.js';
import type { TaskTrySpec } from '../../src/executor/types.js';
import { ConfigError } from '../../src/errors.js';
import { runnerPaths } from '../../src/util/paths.js';

const fixtures = resolve('test/fixtures/executor');
const nodeCallables = join(fixtures, 'callables.mjs');
const pyCallables = join(fixtures, 'callables.py');
let work: string;
let seq = 0;

beforeAll(() => {
  if (!existsSync(runnerPaths.node()))
    throw new Error(`${runnerPaths.node()} is missing: run \`npx tsc -p tsconfig.json\` first`);
  work = mkdtempSync(join(tmpdir(), 'miniflow-executor-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function spec(overrides: Partial<TaskTrySpec>): TaskTrySpec {
  const taskId = overrides.taskId ?? `t${++seq}`;
  return {
    dagId: 'exec_dag',
    runId: 'manual__1',
    taskId,
    tryNumber: 1,
    taskType: 'BashOperator',
    opArgs: [],
    opKwargs: {},
    env: {},
    executionTimeout: null,
    logFile: join(work, 'logs', 'dag_id=exec_dag', 'run_id=manual__1', `task_id=${taskId}`, 'attempt=1.log'),
    ...overrides,
  };
}

const bash = (bashCommand: string, more: Partial<TaskTrySpec> = {}) =>
  spec({ taskType: 'BashOperator', bashCommand, ...more });
const node = (callableName: string, more: Partial<TaskTrySpec> = {}) =>
  spec({ taskType: 'NodeOperator', callableFile: nodeCallables, callableName, ...more });
const python = (callableName: string, more: Partial<TaskTrySpec> = {}) =>
  // No __pycache__ left in the fixtures folder.
  spec({
    taskType: 'PythonOperator',
    callableFile: pyCallables,
    callableName,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    ...more,
  });

/** True when the process is gone (or a zombie waiting for a reaper, which runs nothing). */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

/** A signal is delivered when its target next runs: on a loaded machine that can be after the
 * try's result, so wait (bounded) for the process to go rather than look once. */
async function diesSoon(pid: number, withinMs = 10_000): Promise<boolean> {
  for (const end = Date.now() + withinMs; Date.now() < end;) {
    if (isDead(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return isDead(pid);
}

describe('BashOperator', () => {
  test('the last non-empty stdout line is the return value, and the log holds all output', async () => {
    const s = bash('echo first; echo "to stderr" >&2; echo last; echo; echo "   "');
    let startedPid: number | undefined;
    const result = await runTaskTry(s, {
      onStart: (pid) => {
        startedPid = pid;
      },
    });
    expect(result).toMatchObject({ ok: true, returnValue: 'last', exitCode: 0, timedOut: false });
    expect(startedPid).toBe(result.pid);
    expect(result.endedAt.getTime()).toBeGreaterThanOrEqual(result.startedAt.getTime());
    const log = readFileSync(s.logFile, 'utf8');
    expect(log).toContain('first\n');
    expect(log).toContain('to stderr\n');
    expect(log).toContain('last\n');
  });

  test('no output means no return value', async () => {
    const result = await runTaskTry(bash('true'));
    expect(result.ok).toBe(true);
    expect(result.returnValue).toBeUndefined();
  });

  test('a non-zero exit fails with its code', async () => {
    const result = await runTaskTry(bash('echo partial; exit 3'));
    expect(result).toMatchObject({ ok: false, exitCode: 3, error: 'exited with code 3' });
  });

  test('the child sees only allowlisted variables, its own env and the Airflow context', async () => {
    process.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN = 'postgresql://u:secret@h/db';
    try {
      const s = bash('env', { env: { MY_TASK_VAR: 'declared' }, taskId: 'env_task', tryNumber: 2 });
      const result = await runTaskTry(s);
      expect(result.ok).toBe(true);
      const log = readFileSync(s.logFile, 'utf8');
      expect(log).not.toContain('secret');
      expect(log).not.toContain('AIRFLOW__');
      expect(log).toContain('MY_TASK_VAR=declared');
      expect(log).toContain('AIRFLOW_CTX_DAG_ID=exec_dag');
      expect(log).toContain('AIRFLOW_CTX_TASK_ID=env_task');
      expect(log).toContain('AIRFLOW_CTX_RUN_ID=manual__1');
      expect(log).toContain('AIRFLOW_CTX_TRY_NUMBER=2');
    } finally {
      delete process.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN;
    }
  });

  test('runs in the given cwd; a missing cwd fails before spawning', async () => {
    expect((await runTaskTry(bash('pwd', { cwd: work }))).returnValue).toBe(work);
    const missing = await runTaskTry(bash('pwd', { cwd: join(work, 'nope') }));
    expect(missing).toMatchObject({ ok: false });
    expect(missing.error).toContain('does not exist');
  });
});

describe('execution_timeout', () => {
  test('kills a sleeping child and reports timedOut', async () => {
    const result = await runTaskTry(bash('sleep 30', { executionTimeout: 1 }));
    expect(result).toMatchObject({ ok: false, timedOut: true, error: 'execution_timeout of 1s exceeded' });
    expect(result.endedAt.getTime() - result.startedAt.getTime()).toBeLessThan(10_000);
  });

  test('kills the whole process group, grandchildren included', async () => {
    const pidFile = join(work, 'grandchild.pid');
    const result = await runTaskTry(bash(`sleep 30 & echo $! > ${pidFile}; wait`, { executionTimeout: 1 }));
    expect(result).toMatchObject({ ok: false, timedOut: true });
    expect(result.endedAt.getTime() - result.startedAt.getTime()).toBeLessThan(10_000);
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await diesSoon(grandchild)).toBe(true);
  });
});

describe('NodeOperator', () => {
  test('op_kwargs arrive as the single argument', async () => {
    const result = await runTaskTry(node('greet', { opKwargs: { name: 'ada', n: 21 } }));
    expect(result).toMatchObject({ ok: true, returnValue: { greeting: 'hello ada', n: 42 } });
  });

  test('op_args come first, op_kwargs last', async () => {
    const result = await runTaskTry(node('add', { opArgs: [2, 3], opKwargs: { k: 'v' } }));
    expect(result.returnValue).toEqual({ sum: 5, kwargs: { k: 'v' } });
  });

  test('async callables are awaited; the default export is callable by name', async () => {
    expect((await runTaskTry(node('slowDouble', { opKwargs: { x: 4 } }))).returnValue).toBe(8);
    expect((await runTaskTry(node('default', { opKwargs: { who: 'me' } }))).returnValue).toBe('default got me');
  });

  test('undefined is no return value', async () => {
    const result = await runTaskTry(node('nothing'));
    expect(result.ok).toBe(true);
    expect(result.returnValue).toBeUndefined();
  });

  test.each([
    ['nanMetric', 'return value of nanMetric() is not JSON: NaN at $.metrics.loss'],
    ['bigCount', 'return value of bigCount() is not JSON: BigInt at $.rows[1]'],
    ['circular', 'return value of circular() is not JSON: circular reference at $.self'],
    ['callback', 'return value of callback() is not JSON: function at $.fn'],
  ])('%s fails with the offending path', async (name, error) => {
    const result = await runTaskTry(node(name));
    expect(result).toMatchObject({ ok: false, exitCode: 1, error });
  });

  test('a thrown error fails the try and its stack goes to the log', async () => {
    const s = node('boom');
    const result = await runTaskTry(s);
    expect(result).toMatchObject({ ok: false, exitCode: 1, error: 'boom() raised Error: boom from node' });
    expect(readFileSync(s.logFile, 'utf8')).toMatch(/Error: boom from node\n\s+at boom/);
  });

  test('a runner that exits without a result line fails clearly', async () => {
    const result = await runTaskTry(node('exitsEarly'));
    expect(result).toMatchObject({
      ok: false,
      exitCode: 0,
      error: 'the runner exited without writing a result line on fd 3',
    });
  });

  test('a missing export names the file', async () => {
    const result = await runTaskTry(node('noSuchThing'));
    expect(result.ok).toBe(false);
    expect(result.error).toBe(`${nodeCallables} has no exported function 'noSuchThing'`);
  });
});

describe('PythonOperator', () => {
  test('op_args and op_kwargs are passed, sibling imports work, print goes to the log', async () => {
    const s = python('greet', { opArgs: ['ada'], opKwargs: { times: 2 } });
    const result = await runTaskTry(s);
    expect(result).toMatchObject({ ok: true, returnValue: { greeting: 'ADAADA' } });
    expect(readFileSync(s.logFile, 'utf8')).toContain('greeting ada\n');
  });

  test('NaN in the return value fails the try', async () => {
    const result = await runTaskTry(python('nan_metric'));
    expect(result).toMatchObject({
      ok: false,
      error: 'return value of nan_metric() is not JSON: nan at $.metrics.loss',
    });
  });

  test('an exception fails the try with its traceback in the log', async () => {
    const s = python('boom');
    const result = await runTaskTry(s);
    expect(result).toMatchObject({ ok: false, error: 'boom() raised ValueError: boom from python' });
    expect(readFileSync(s.logFile, 'utf8')).toContain('Traceback (most recent call last)');
  });
});

describe('FileSensor', () => {
  test('succeeds when the file exists, fails after its timeout when it does not', async () => {
    const present = join(work, 'present.flag');
    await runTaskTry(bash(`touch ${present}`));
    const found = spec({ taskType: 'FileSensor', filepath: present, pokeInterval: 0.05, sensorTimeout: 5 });
    expect(await runTaskTry(found)).toMatchObject({ ok: true });
    expect(readFileSync(found.logFile, 'utf8')).toContain(`Poking for file ${present}`);

    const absent = spec({
      taskType: 'FileSensor',
      filepath: join(work, 'absent.flag'),
      pokeInterval: 0.05,
      sensorTimeout: 0.2,
    });
    const result = await runTaskTry(absent);
    expect(result.ok).toBe(false);
    expect(result.error).toContain('Sensor has timed out');
    expect(readFileSync(absent.logFile, 'utf8').match(/Poking for file/g)!.length).toBeGreaterThan(1);
  });
});

test('an unsupported operator type fails without a child', async () => {
  const result = await runTaskTry(spec({ taskType: 'KubernetesPodOperator', taskId: 'pod' }));
  expect(result).toMatchObject({
    ok: false,
    error:
      "operator type 'KubernetesPodOperator' cannot be run by miniflow (task pod): supported are BashOperator, PythonOperator, NodeOperator, FileSensor, EmptyOperator",
  });
  expect(result.pid).toBeUndefined();
});

describe('LocalExecutor', () => {
  test('parallelism must be an integer >= 1', () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      expect(() => new LocalExecutor({ parallelism: bad })).toThrow(ConfigError);
    }
    expect(() => new LocalExecutor({ parallelism: 0 })).toThrow('[core] parallelism');
  });

  test('never runs more than parallelism children at once, and counts submissions', async () => {
    const executor = new LocalExecutor({ parallelism: 2 });
    const stamps = join(work, 'stamps.txt');
    // Each child stamps its own start and end; overlap is computed from those, not from parent timing.
    const cmd = (i: number) =>
      `echo "start ${i} $(date +%s%N)" >> ${stamps}; sleep 0.3; echo "end ${i} $(date +%s%N)" >> ${stamps}`;
    const results = Promise.all([0, 1, 2, 3, 4].map((i) => executor.submit(bash(cmd(i)))));
    expect(executor.submitted).toBe(5);
    expect(executor.running + executor.pending).toBe(5);
    expect(executor.running).toBeLessThanOrEqual(2);
    expect((await results).every((r) => r.ok)).toBe(true);
    await executor.onIdle();
    expect(executor.running).toBe(0);
    expect(executor.pending).toBe(0);

    const events = readFileSync(stamps, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([kind, , ns]) => ({ delta: kind === 'start' ? 1 : -1, at: BigInt(ns) }))
      // Ends before starts at the same instant: a slot freed and reused is not an overlap.
      .sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
    expect(events).toHaveLength(10);
    let live = 0;
    let maxLive = 0;
    for (const e of events) maxLive = Math.max(maxLive, (live += e.delta));
    expect(maxLive).toBe(2);
  });

  test('submit never rejects: a failing try is a failed result', async () => {
    const executor = new LocalExecutor({ parallelism: 1 });
    const result = await executor.submit(spec({ taskType: 'Nope' }));
    expect(result.ok).toBe(false);
    expect(executor.submitted).toBe(1);
  });

  test('killAll kills running children and fails queued tries without starting them', async () => {
    const executor = new LocalExecutor({ parallelism: 1 });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = executor.submit(bash('sleep 30'), { onStart: () => started() });
    const second = executor.submit(bash('echo never'));
    await running;
    executor.killAll();
    expect(await first).toMatchObject({ ok: false, signal: 'SIGKILL', error: 'killed by SIGKILL' });
    expect(await second).toMatchObject({ ok: false, error: 'the executor was shut down before this try started' });
  });
});

describe('slot holds (a scheduler claims only what it can start)', () => {
  const settledWithin = async <T>(p: Promise<T>, ms: number): Promise<boolean> =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

  test('holds count against parallelism; a release or a finished try frees one for the next waiter', async () => {
    const ex = new LocalExecutor({ parallelism: 2 });
    const a = (await ex.holdSlot())!;
    const b = (await ex.holdSlot())!;
    const third = ex.holdSlot();
    expect(await settledWithin(third, 50)).toBe(false); // both slots held
    a.release();
    a.release(); // a second release gives back nothing more
    const c = (await third)!;
    const fourth = ex.holdSlot();
    expect(await settledWithin(fourth, 50)).toBe(false);
    // A held slot used for a try stays taken until the try ends, then the waiter gets it.
    const run = b.submit(bash('sleep 0.2; echo done'));
    b.release(); // after submit: a no-op, the queue counts the try now
    expect(await settledWithin(fourth, 50)).toBe(false);
    expect((await run).ok).toBe(true);
    expect(await fourth).not.toBeNull();
    c.release();
  });

  test('2,000 waiters: each freed slot wakes one waiter (not all of them), first come first served', async () => {
    const ex = new LocalExecutor({ parallelism: 2 });
    const first = [(await ex.holdSlot())!, (await ex.holdSlot())!];
    const order: number[] = [];
    const waiters = Array.from({ length: 2_000 }, (_, i) =>
      ex.holdSlot().then((hold) => {
        order.push(i);
        hold!.release(); // frees the slot for the next waiter
      }),
    );
    first.forEach((h) => h.release());
    await Promise.all(waiters);
    expect(order).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    // Waking every waiter per freed slot was ~2,000,000 wake-ups here (quadratic).
    expect(ex.slotWakeUps).toBeLessThanOrEqual(2 * 2_000);
  });

  test('cancelling the waits answers every waiter with null, and later holds too', async () => {
    const ex = new LocalExecutor({ parallelism: 1 });
    const held = (await ex.holdSlot())!;
    const waiting = ex.holdSlot();
    ex.cancelSlotWaits();
    expect(await waiting).toBeNull();
    expect(await ex.holdSlot()).toBeNull();
    held.release();
  });
});
