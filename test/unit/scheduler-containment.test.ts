// Issue 14 point 1 on a real SQLite metadata DB, real DAG and real children: a task instance whose
// handling throws on every attempt (a scheduler event listener that throws for it: the attempt
// pipeline calls listeners synchronously) fails try after try with "internal error: ...", follows
// its retries with a backoff of at least the idle sleep, and the other tasks of the run finish.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { DagRunStore } from '../../src/models/dag-run.js';
import { TaskInstanceStore } from '../../src/models/task-instance.js';
import { taskLogPath } from '../../src/util/log-path.js';

const home = mkdtempSync(join(tmpdir(), 'miniflow-contain-'));
mkdirSync(join(home, 'dags'));
const bash = (id: string, downstream: string[] = []) => ({
  task_id: id,
  task_type: 'BashOperator',
  bash_command: `echo ${id}`,
  retries: 2,
  retry_delay: 0,
  downstream_task_ids: downstream,
});
writeFileSync(
  join(home, 'dags', 'c.json'),
  JSON.stringify({ __version: 1, dag: { dag_id: 'c', tasks: [bash('bad'), bash('good1', ['good2']), bash('good2')] } }),
);

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.open({
    AIRFLOW_HOME: home,
    PATH: process.env.PATH,
    AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.2',
  });
});
afterAll(async () => rt?.close());

test('a task whose handling throws every time fails after its retries, backing off; the run ends', async () => {
  const registry = await rt.dags();
  const now = rt.clock.now();
  const run = await new DagRunStore(rt.db).create(
    registry.get('c'),
    { dagId: 'c', runId: 'r', logicalDate: now, conf: {}, runType: 'manual' },
    now,
  );
  const tis = new TaskInstanceStore(rt.db);
  const badId = (await tis.forRun('c', run.run_id)).find((t) => t.task_id === 'bad')!.id;
  const lines: string[] = [];
  const { scheduler } = await rt.scheduler({ log: (l) => lines.push(l), only: { dagId: 'c', runId: 'r' } });
  const attempts: number[] = [];
  scheduler.events.on('ready', ({ tiId }) => {
    if (tiId !== badId) return;
    attempts.push(performance.now());
    throw new TypeError('listener bug');
  });

  await scheduler.loop({ untilIdle: true });

  const rows = Object.fromEntries((await tis.fullRows('c', 'r')).map((t) => [t.task_id, t]));
  expect(rows.good1.state).toBe('success');
  expect(rows.good2.state).toBe('success');
  expect(rows.bad).toMatchObject({ state: 'failed', try_number: 3, error: 'internal error: listener bug' });
  expect(lines).toContain("DAG run r of 'c' finished: failed");
  // Each attempt logged once with its stack; a bounded log, not a line per loop iteration.
  const internal = lines.filter((l) => l.includes("internal error on task 'bad'"));
  expect(internal).toHaveLength(3);
  expect(internal[0]).toContain('TypeError: listener bug\n    at ');
  expect(lines.length).toBeLessThan(20);
  // Never more than one attempt per scheduler_idle_sleep_time (0.2 s), backing off further while it repeats.
  expect(attempts).toHaveLength(3);
  for (let i = 1; i < attempts.length; i++) expect(attempts[i] - attempts[i - 1]).toBeGreaterThanOrEqual(195);
  // The try's own log keeps the stack.
  const log = taskLogPath(rt.settings.logging.baseLogFolder, 'c', 'r', 'bad', 1);
  expect(existsSync(log) && readFileSync(log, 'utf8')).toContain(
    'internal error in the scheduler: TypeError: listener bug',
  );
}, 30_000);
