// Issue 14 point 5 (XComs read from the DB): a stored XCom over [core] max_xcom_bytes (written by an
// older version, a larger limit, or by hand) is checked by length in the DB before it is loaded or
// parsed, and the task that reads it fails with a message naming the XCom, its size and the key.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { DagRunStore } from '../../src/models/dag-run.js';
import { TaskInstanceStore } from '../../src/models/task-instance.js';

const home = mkdtempSync(join(tmpdir(), 'miniflow-xcom-bound-'));
mkdirSync(join(home, 'dags'));
writeFileSync(
  join(home, 'dags', 'x.json'),
  JSON.stringify({
    __version: 1,
    dag: {
      dag_id: 'x',
      tasks: [
        { task_id: 'big', task_type: 'BashOperator', bash_command: 'echo small', downstream_task_ids: ['reader'] },
        {
          task_id: 'reader',
          task_type: 'BashOperator',
          bash_command: "echo {{ ti.xcom_pull(task_ids='big') | length }}",
          retries: 0,
          downstream_task_ids: [],
        },
      ],
    },
  }),
);

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.open({ AIRFLOW_HOME: home, PATH: process.env.PATH, AIRFLOW__CORE__MAX_XCOM_BYTES: '1000' });
});
afterAll(async () => rt?.close());

test('an oversized stored XCom fails the task reading it, with the limit named', async () => {
  const registry = await rt.dags();
  const now = rt.clock.now();
  await new DagRunStore(rt.db).create(
    registry.get('x'),
    { dagId: 'x', runId: 'r', logicalDate: now, conf: {}, runType: 'manual' },
    now,
  );
  // 'big' finished earlier with a value over today's limit.
  await rt.db.exec("UPDATE task_instance SET state = 'success', try_number = 1 WHERE task_id = 'big'");
  await rt.db.exec(
    "INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp) VALUES ('x', 'r', 'big', -1, 'return_value', ?, 0)",
    [JSON.stringify('y'.repeat(5000))],
  );
  const lines: string[] = [];
  const { scheduler } = await rt.scheduler({ log: (l) => lines.push(l), only: { dagId: 'x', runId: 'r' } });
  await scheduler.loop({ untilIdle: true });
  const reader = (await new TaskInstanceStore(rt.db).fullRows('x', 'r')).find((t) => t.task_id === 'reader')!;
  expect(reader.state).toBe('failed');
  expect(reader.error).toBe(
    "XCom 'return_value' of task 'big' (run r) is 5002 characters in the metadata DB, over [core] max_xcom_bytes (1000 bytes): it is not read; raise the limit or have that task return less",
  );
  expect(lines.join('\n')).not.toContain('internal error');
}, 30_000);
