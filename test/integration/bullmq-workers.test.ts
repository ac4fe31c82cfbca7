/**
 * The BullMQ executor with real processes on a real Redis: one scheduler (`dags test`), workers in
 * their own AIRFLOW_HOMEs (standing in for machines, each with its own copy of the bundle).
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TempHome } from '../helpers/cli.js';
import { describeWith, REDIS_URL, uniqueName } from '../contract/servers.js';

interface TaskRow {
  task_id: string;
  state: string;
  try_number: number;
  hostname: string | null;
  error: string | null;
  cache: { decision: string };
}
interface DagTest {
  state: string;
  run_id: string;
  executor_submitted: number;
  tasks: TaskRow[];
}

describeWith('MINIFLOW_TEST_REDIS_URL', REDIS_URL, 'BullMQExecutor with miniflow workers', () => {
  const started: ChildProcess[] = [];

  /**
   * A child's output and exit, listened for from its spawn: a 'close' listener added after an await
   * misses an exit that already happened and waits forever (a scheduler with --exit-when-idle may
   * finish before the test looks again).
   */
  function watch(proc: ChildProcess): Watched {
    started.push(proc);
    let out = '';
    let exited = false;
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('close', () => (exited = true));
    return { proc, output: () => out, exited: () => exited };
  }

  /** A scheduler home whose tries go to BullMQ under a prefix of this test's own. */
  function schedulerHome(prefix: string): TempHome {
    return new TempHome({
      AIRFLOW__CORE__EXECUTOR: 'BullMQExecutor',
      AIRFLOW__BULLMQ__REDIS_URL: REDIS_URL ?? '',
      AIRFLOW__BULLMQ__QUEUE_PREFIX: prefix,
      AIRFLOW__CORE__PARALLELISM: '8',
    });
  }

  /** A worker "machine": its own home with a copy of the scheduler's bundle. */
  async function startWorker(
    from: TempHome,
    prefix: string,
    name: string,
    queues: string,
    env: Record<string, string> = {},
  ): Promise<Watched & { home: TempHome }> {
    const home = new TempHome({ AIRFLOW__BULLMQ__REDIS_URL: REDIS_URL ?? '', AIRFLOW__BULLMQ__QUEUE_PREFIX: prefix });
    cpSync(from.dags, home.dags, { recursive: true });
    const w = watch(home.start(['worker', '--queues', queues, '--concurrency', '2', '--hostname', name], env));
    await waitFor(() => w.output().includes('listening on queues'), `worker ${name} to start`, w.output);
    return { ...w, home };
  }

  /** What a test waiting on schedulers was stuck on: run r1's task instances, the queue's jobs, each process's output. */
  async function stuckState(home: TempHome, dagId: string, queue: Queue | null, procs: Record<string, Watched>) {
    const listed = home.run(['tasks', 'states-for-dag-run', dagId, 'r1', '-o', 'json']).stdout;
    let tis: string;
    try {
      tis = (JSON.parse(listed) as TaskRow[])
        .map((t) => `${t.task_id} ${t.state} try ${t.try_number} on ${t.hostname}`)
        .join(', ');
    } catch {
      tis = listed;
    }
    const jobs = queue ? JSON.stringify(await queue.getJobCounts()) : 'not read';
    const outputs = Object.entries(procs).map(([name, p]) => `--- ${name} (exited: ${p.exited()}):\n${p.output()}`);
    return [`task instances: ${tis}`, `jobs: ${jobs}`, ...outputs].join('\n');
  }

  function dagsTest(home: TempHome, dagId: string, runId: string): Promise<{ code: number; data: DagTest }> {
    const proc = home.start(['dags', 'test', dagId, '--run-id', runId, '-o', 'json']);
    started.push(proc);
    let out = '';
    let err = '';
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    return new Promise((resolve, reject) =>
      proc.on('close', (code) => {
        try {
          resolve({ code: code ?? -1, data: JSON.parse(out) as DagTest });
        } catch {
          reject(new Error(`dags test did not print JSON (exit ${code}):\n${out}\n${err}`));
        }
      }),
    );
  }

  afterAll(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  test('100 tasks on two queues: each runs exactly once, on a worker of its queue; the warm run enqueues nothing', async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    const side = join(sched.home, 'runs.txt');
    writeFileSync(side, '');
    const tasks = Array.from({ length: 100 }, (_, i) => ({
      task_id: `t${i}`,
      task_type: 'BashOperator',
      ...(i % 3 === 0 ? { queue: 'heavy' } : {}),
      bash_command: `echo "$AIRFLOW_CTX_TASK_ID" >> ${side}; echo ${i}`,
      downstream_task_ids: [],
    }));
    sched.writeDag({ dag_id: 'wide', default_args: { cache: true }, tasks });
    const w1 = await startWorker(sched, prefix, 'w1', 'default');
    const w2 = await startWorker(sched, prefix, 'w2', 'default');
    const w3 = await startWorker(sched, prefix, 'w3', 'heavy');

    const cold = await dagsTest(sched, 'wide', 'cold');
    expect(cold.data.state).toBe('success');
    expect(cold.data.executor_submitted).toBe(100);
    const counts = new Map<string, number>();
    for (const line of readFileSync(side, 'utf8').split('\n').filter(Boolean))
      counts.set(line, (counts.get(line) ?? 0) + 1);
    expect(counts.size).toBe(100);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (const t of cold.data.tasks) {
      const heavy = Number(t.task_id.slice(1)) % 3 === 0;
      expect([t.task_id, t.state, t.try_number]).toEqual([t.task_id, 'success', 1]);
      expect(heavy ? ['w3'] : ['w1', 'w2']).toContain(t.hostname);
    }
    // The XCom came back through the job's return value, and the log through the scheduler's log folder.
    expect(sched.run(['xcom', 'get', 'wide', 'cold', 't7']).stdout.trim()).toBe('"7"');
    const log = sched.run(['tasks', 'logs', 'wide', 'cold', 't3']).stdout;
    expect(log).toContain('Running on host w3');
    expect(log).toContain('Done. Returned value was: 3');
    const states = sched.json<TaskRow[]>(['tasks', 'states-for-dag-run', 'wide', 'cold']).data;
    expect(states.find((t) => t.task_id === 't3')?.hostname).toBe('w3');

    const warm = await dagsTest(sched, 'wide', 'warm');
    expect(warm.data.state).toBe('success');
    expect(warm.data.executor_submitted).toBe(0);
    expect(warm.data.tasks.every((t) => t.cache.decision === 'hit')).toBe(true);
    expect(readFileSync(side, 'utf8').split('\n').filter(Boolean)).toHaveLength(100);
    for (const w of [w1, w2, w3]) w.proc.kill('SIGTERM');
  }, 240_000);

  test("a SIGKILLed worker's try is lost and retried on another worker, never run twice as a success", async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    const side = join(sched.home, 'tries.txt');
    sched.writeDag({
      dag_id: 'slow',
      tasks: [
        {
          task_id: 'sleepy',
          task_type: 'BashOperator',
          retries: 1,
          retry_delay: 0,
          bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> ${side}; if [ "$AIRFLOW_CTX_TRY_NUMBER" = 1 ]; then sleep 20; fi; echo finished`,
          downstream_task_ids: [],
        },
      ],
    });
    // A short lock, so the surviving worker's stalled check finds the dead worker's job quickly.
    const fast = { AIRFLOW__BULLMQ__LOCK_DURATION: '3' };
    const a = await startWorker(sched, prefix, 'wa', 'default', fast);
    const b = await startWorker(sched, prefix, 'wb', 'default', fast);
    const run = dagsTest(sched, 'slow', 'killed');
    await waitFor(() => existsSync(side) && readFileSync(side, 'utf8').includes('1'), 'try 1 to start');
    await waitFor(() => /running try 1/.test(a.output() + b.output()), 'a worker to report try 1');
    const [victim, survivor] = a.output().includes('running try 1') ? [a, b] : [b, a];
    victim.proc.kill('SIGKILL');

    const r = await run;
    expect(r.data.state).toBe('success');
    const t = r.data.tasks[0];
    expect(t.try_number).toBe(2);
    expect(t.hostname).toBe(survivor === a ? 'wa' : 'wb');
    expect(readFileSync(side, 'utf8').split('\n').filter(Boolean)).toEqual(['1', '2']);
    const log1 = sched.run(['tasks', 'logs', 'slow', 'killed', 'sleepy', '--try', '1']).stdout;
    expect(log1).toContain('the worker running this try was lost');
    survivor.proc.kill('SIGTERM');
  }, 180_000);

  test('a restarted scheduler re-attaches to the jobs its predecessor queued: no second job, each task runs once', async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    const side = join(sched.home, 'runs.txt');
    writeFileSync(side, '');
    const tasks = ['a', 'b', 'c'].map((id) => ({
      task_id: id,
      task_type: 'BashOperator',
      bash_command: `echo "$AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_TRY_NUMBER" >> ${side}`,
      downstream_task_ids: [],
    }));
    sched.writeDag({ dag_id: 'restart', schedule: null, tasks });
    expect(sched.run(['dags', 'trigger', 'restart', '--run-id', 'r1']).code).toBe(0);
    // No worker yet: the first scheduler can only enqueue.
    const first = watch(sched.start(['scheduler']));
    const redis = new Redis(REDIS_URL ?? '', { maxRetriesPerRequest: null });
    const queue = new Queue('default', { connection: redis, prefix });
    try {
      await waitFor(
        () => jobCount >= 3,
        'three queued jobs',
        () => first.output(),
        async () => {
          jobCount = (await queue.getJobs(['wait'])).length;
        },
      );
      first.proc.kill('SIGKILL');
      await waitFor(first.exited, 'the first scheduler to die');
      const second = watch(sched.start(['scheduler', '--exit-when-idle']));
      const w = await startWorker(sched, prefix, 'w-late', 'default');
      await waitFor(second.exited, 'the second scheduler to exit once the run is done', () =>
        stuckState(sched, 'restart', queue, { 'second scheduler': second, worker: w }),
      );
      const states = sched.json<TaskRow[]>(['tasks', 'states-for-dag-run', 'restart', 'r1']).data;
      expect(states.map((t) => [t.task_id, t.state, t.try_number, t.hostname])).toEqual([
        ['a', 'success', 1, 'w-late'],
        ['b', 'success', 1, 'w-late'],
        ['c', 'success', 1, 'w-late'],
      ]);
      expect(readFileSync(side, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a 1', 'b 1', 'c 1']);
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(3);
      w.proc.kill('SIGTERM');
    } finally {
      await queue.close();
      redis.disconnect();
    }
  }, 120_000);

  test('a scheduler killed while a try runs on a worker: its successor adopts the try, which runs once as try 1', async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    const side = join(sched.home, 'runs.txt');
    writeFileSync(side, '');
    sched.writeDag({
      dag_id: 'adopt',
      schedule: null,
      tasks: [
        {
          task_id: 'slow',
          task_type: 'BashOperator',
          retries: 2,
          retry_delay: 0,
          bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> ${side}; sleep 3; echo done`,
          downstream_task_ids: [],
        },
      ],
    });
    expect(sched.run(['dags', 'trigger', 'adopt', '--run-id', 'r1']).code).toBe(0);
    const w = await startWorker(sched, prefix, 'w-run', 'default');
    const first = watch(sched.start(['scheduler']));
    await waitFor(() => readFileSync(side, 'utf8').includes('1'), 'the try to start on the worker');
    await waitFor(
      () => running,
      'the task instance to be running',
      undefined,
      async () => {
        const rows = sched.json<TaskRow[]>(['tasks', 'states-for-dag-run', 'adopt', 'r1']).data;
        running = rows[0]?.state === 'running';
        await Promise.resolve();
      },
    );
    first.proc.kill('SIGKILL');
    await waitFor(first.exited, 'the first scheduler to die');
    const second = watch(sched.start(['scheduler', '--exit-when-idle']));
    await waitFor(second.exited, 'the second scheduler to exit once the run is done', () =>
      stuckState(sched, 'adopt', null, { 'second scheduler': second, worker: w }),
    );
    const states = sched.json<TaskRow[]>(['tasks', 'states-for-dag-run', 'adopt', 'r1']).data;
    expect(states.map((t) => [t.task_id, t.state, t.try_number, t.hostname])).toEqual([
      ['slow', 'success', 1, 'w-run'],
    ]);
    expect(readFileSync(side, 'utf8').split('\n').filter(Boolean)).toEqual(['1']);
    expect(second.output()).toContain('adopting it');
    expect(sched.run(['tasks', 'logs', 'adopt', 'r1', 'slow']).stdout).toContain('done');
    w.proc.kill('SIGTERM');
  }, 120_000);

  test('the instances of a mapped task are jobs of their own: each runs once, with its own input', async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    const side = join(sched.home, 'mapped.txt');
    writeFileSync(side, '');
    sched.writeDag({
      dag_id: 'mapped',
      tasks: [
        {
          task_id: 'each',
          task_type: 'BashOperator',
          expand: { bash_command: ['a', 'b', 'c'].map((x) => `echo ${x} >> ${side}; echo ${x}`) },
          downstream_task_ids: [],
        },
      ],
    });
    const w = await startWorker(sched, prefix, 'w-map', 'default');
    const r = await dagsTest(sched, 'mapped', 'm1');
    expect(r.data.state).toBe('success');
    expect(r.data.executor_submitted).toBe(3);
    expect(readFileSync(side, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c']);
    w.proc.kill('SIGTERM');
  }, 120_000);

  test('a worker with a different version of the callable refuses the try', async () => {
    const prefix = uniqueName('mfq');
    const sched = schedulerHome(prefix);
    sched.write('dags/callables/foo.js', 'export function run() { return "v1"; }\n');
    sched.writeDag({
      dag_id: 'versions',
      tasks: [{ task_id: 'f', task_type: 'NodeOperator', callable: 'callables/foo.js:run', downstream_task_ids: [] }],
    });
    const w = await startWorker(sched, prefix, 'old-worker', 'default');
    w.home.write('dags/callables/foo.js', 'export function run() { return "v0"; }\n');

    const r = await dagsTest(sched, 'versions', 'mismatch');
    expect(r.data.state).toBe('failed');
    expect(r.data.tasks[0].error).toBe('worker old-worker has a different version of callables/foo.js');
    expect(sched.run(['tasks', 'logs', 'versions', 'mismatch', 'f']).stdout).toContain(
      'worker old-worker has a different version of callables/foo.js',
    );

    // The same bundle on the worker: the try runs there.
    cpSync(join(sched.dags, 'callables', 'foo.js'), join(w.home.dags, 'callables', 'foo.js'));
    const ok = await dagsTest(sched, 'versions', 'matching');
    expect(ok.data.state).toBe('success');
    expect(sched.run(['xcom', 'get', 'versions', 'matching', 'f']).stdout.trim()).toBe('"v1"');
    w.proc.kill('SIGTERM');
  }, 120_000);
});

interface Watched {
  proc: ChildProcess;
  output: () => string;
  /** The process has exited and its output is all read. */
  exited: () => boolean;
}

let jobCount = 0;
let running = false;

/** Polls `ok`; past the deadline, fails saying what it waited for and `detail` (the state it was stuck in). */
async function waitFor(
  ok: () => boolean,
  what: string,
  detail: () => string | Promise<string> = () => '',
  refresh?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await refresh?.();
    if (ok()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
