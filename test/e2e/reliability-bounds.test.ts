// Issue 14, point 5 through the real CLI: what one task can cost is bounded. A try's log is capped
// with a marker, a Bash task's last-line XCom and a Node task's return value are checked against
// [core] max_xcom_bytes before they are parsed or stored, ids too long for the log path are
// refused at load, and a bad --conf is quoted shortened.
import { cpSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { taskLogPath } from '../../src/util/log-path.js';

function home(env: Record<string, string> = {}): TempHome {
  const h = new TempHome(env);
  cpSync(join(REPO, 'test', 'fixtures', 'e2e-bounds'), join(h.dags, 'callables'), { recursive: true });
  return h;
}

function bash(taskId: string, command: string): object {
  return { task_id: taskId, task_type: 'BashOperator', bash_command: command, downstream_task_ids: [] };
}

function testRun(h: TempHome, dagId: string, runId: string) {
  const r = h.json(['dags', 'test', dagId, '2026-01-01', '--run-id', runId]);
  const tasks = Object.fromEntries((r.data.tasks as { task_id: string; state: string }[]).map((t) => [t.task_id, t]));
  return { ...r, tasks: tasks as Record<string, { state: string }> };
}

describe('output bounds', () => {
  const h = home({
    AIRFLOW__LOGGING__MAX_LOG_BYTES_PER_TRY: '100000',
    AIRFLOW__CORE__MAX_XCOM_BYTES: '1000',
  });
  h.writeDag({
    dag_id: 'bounds',
    tasks: [
      // 20 MB on one line, without a newline until the end: found from a bounded tail, and too large.
      bash('one_huge_line', "head -c 20000000 /dev/zero | tr '\\0' x; echo"),
      // Much output, then a short last line: the log is capped, the XCom is the last line.
      bash('chatty', "head -c 3000000 /dev/zero | tr '\\0' y | fold -w 100; echo; echo done >&2; echo '  the end  '"),
      bash('fits', 'printf "%0999d" 0'),
      bash('one_byte_over', 'printf "%01001d" 0'),
      {
        task_id: 'node_big',
        task_type: 'NodeOperator',
        callable: 'callables/big.js:bigValue',
        op_kwargs: { n: 5000 },
        downstream_task_ids: [],
      },
    ],
  });

  test('each task is judged on its own bound', () => {
    const r = testRun(h, 'bounds', 'r1');
    expect(r.code).toBe(1);
    expect(r.tasks.one_huge_line.state).toBe('failed');
    expect(r.tasks.chatty.state).toBe('success');
    expect(r.tasks.fits.state).toBe('success');
    expect(r.tasks.one_byte_over.state).toBe('failed');
    expect(r.tasks.node_big.state).toBe('failed');
    const xcom = h.run(['xcom', 'get', 'bounds', 'r1', 'chatty']);
    expect(JSON.parse(xcom.stdout)).toBe('  the end');
    expect(JSON.parse(h.run(['xcom', 'get', 'bounds', 'r1', 'fits']).stdout)).toHaveLength(999);
  });

  const log = (task: string) => readFileSync(taskLogPath(join(h.home, 'logs'), 'bounds', 'r1', task, 1), 'utf8');

  test('a too-large return value fails the try with a message naming [core] max_xcom_bytes', () => {
    expect(log('one_huge_line')).toMatch(
      /Task failed: the return value \(last line of stdout\) is 20000000 characters, over \[core\] max_xcom_bytes \(1000\)/,
    );
    expect(log('one_byte_over')).toMatch(/is 1001 (bytes|characters), over \[core\] max_xcom_bytes \(1000\)/);
    expect(log('node_big')).toMatch(/Task failed: the returned value is over \[core\] max_xcom_bytes \(1000 bytes/);
  });

  test('a log is capped at [logging] max_log_bytes_per_try with a marker, and the try still ends', () => {
    for (const task of ['one_huge_line', 'chatty']) {
      const text = log(task);
      expect(text).toContain('log truncated: this try');
      expect(text).toContain('max_log_bytes_per_try (100000 bytes)');
      // The cap, plus miniflow's own header, marker and result lines.
      const size = statSync(taskLogPath(join(h.home, 'logs'), 'bounds', 'r1', task, 1)).size;
      expect(size).toBeGreaterThanOrEqual(100_000);
      expect(size).toBeLessThan(102_000);
    }
    // Output past the cap is dropped, stderr included.
    expect(log('chatty')).not.toMatch(/^done$/m);
  });
});

describe('ids and arguments', () => {
  const h = home();
  const longTask = 't'.repeat(250);
  h.writeDag({ dag_id: 'long_task', tasks: [bash(longTask, 'echo hi')] });
  h.writeDag({ dag_id: 'fine', tasks: [bash('a', 'echo hi')] });

  test('a task_id too long for its log folder is an import error naming the limit', () => {
    const r = h.json(['dags', 'list-import-errors']);
    expect(r.data).toHaveLength(1);
    expect(r.data[0].error).toMatch(
      /task_id is 250 bytes, longer than the 247 bytes its log folder 'task_id=…' can hold \(a path component is at most 255 bytes\)/,
    );
    expect(h.run(['dags', 'test', 'long_task', '2026-01-01']).code).toBe(1);
  });

  test('a 247-character task_id is the longest that runs', () => {
    const edge = 'e'.repeat(247);
    h.writeDag({ dag_id: 'edge', tasks: [bash(edge, 'echo ok')] });
    const r = testRun(h, 'edge', 'e1');
    expect(r.code).toBe(0);
    expect(r.tasks[edge].state).toBe('success');
  });

  test('a --run-id too long for its log folder is refused before anything runs', () => {
    const r = h.run(['dags', 'test', 'fine', '2026-01-01', '--run-id', 'r'.repeat(300)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: --run-id 'r{80}…' \(300 characters\): run_id is 300 bytes, longer than the 248 bytes/,
    );
  });

  test('an invalid --conf is quoted shortened, not echoed whole', () => {
    const conf = `{"data": "${'z'.repeat(100_000)}"`;
    const r = h.run(['dags', 'test', 'fine', '2026-01-01', '--conf', conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --conf is not valid JSON \(.*\): '\{"data": "z+…' \(100011 characters\)\n$/);
    expect(r.stderr.length).toBeLessThan(500);
  });
});
