// Issue 14 point 4 through the real CLI: the metadata DB's disk fills up mid-run (a small tmpfs,
// filled by the test: needs root to mount, else the tests say SKIPPED). The scheduler says so once,
// keeps what it holds (the running try), and resumes when space is back; or, past
// `[scheduler] db_unavailable_timeout`, exits with code 3 and the next scheduler finishes the run.
// And a log folder that cannot be written does not fail the try: its output goes to stderr.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { background, counter, lines, reliabilityHome, waitFor, within } from '../fixtures/e2e-reliability/support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 16 MB tmpfs for the metadata DB, or null (with a visible SKIPPED line) where mounting is not permitted. */
function smallDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'miniflow-dbfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return dir;
  process.stderr.write(
    `SKIPPED metadata DB disk-full tests: cannot mount a tmpfs (${(r.stderr || r.error?.message) ?? ''})\n`,
  );
  return null;
}

/** Fills the file system until ENOSPC. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  return file;
}

function faultyHome(disk: string, extra: Record<string, string> = {}): TempHome {
  const h = reliabilityHome({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${join(disk, 'airflow.db')}`, ...extra });
  h.writeDag({
    dag_id: 'faults',
    default_args: { retries: 1, retry_delay: 0 },
    tasks: [
      {
        task_id: 'a',
        task_type: 'BashOperator',
        bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> '${counter(h, 'a')}'; sleep 2; echo A`,
        downstream_task_ids: ['b'],
      },
      {
        task_id: 'b',
        task_type: 'BashOperator',
        bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> '${counter(h, 'b')}'; echo B`,
        downstream_task_ids: [],
      },
    ],
  });
  return h;
}

describe('a metadata DB whose disk fills up mid-run', () => {
  const disks: string[] = [];
  afterAll(() => disks.forEach((d) => spawnSync('umount', ['-l', d])));
  const disk = () => {
    const d = smallDisk();
    if (d) disks.push(d);
    return d;
  };

  test('one line when it goes, one when it is back; the run resumes and every task runs once', async () => {
    const d = disk();
    if (!d) return;
    const h = faultyHome(d);
    expect(h.run(['dags', 'trigger', 'faults', '--run-id', 'r1']).code).toBe(0);
    const s = background(h, ['scheduler', '--exit-when-idle']);
    await waitFor('task a to start', () => Promise.resolve(lines(h, 'a').length > 0 || undefined));
    const filler = fill(d);
    await waitFor(
      'the scheduler to notice',
      () => Promise.resolve(/metadata DB not writable/.test(s.output()) || undefined),
      20_000,
    );
    await sleep(1000);
    rmSync(filler);
    expect(await within(s, 60_000)).toBe(0);
    const out = s.output();
    expect(out.match(/WARNING metadata DB not writable: .*SQLITE_FULL.*; retrying every 5 s/g)).toHaveLength(1);
    expect(out.match(/metadata DB available again after [\d.]+ s; resuming/g)).toHaveLength(1);
    expect(out).not.toContain('internal error');
    expect(out).toContain("DAG run r1 of 'faults' finished: success");
    expect(lines(h, 'a')).toEqual(['1']);
    expect(lines(h, 'b')).toEqual(['1']);
  }, 90_000);

  test('past db_unavailable_timeout it exits with code 3; the next scheduler finishes the run', async () => {
    const d = disk();
    if (!d) return;
    const h = faultyHome(d, { AIRFLOW__SCHEDULER__DB_UNAVAILABLE_TIMEOUT: '2' });
    expect(h.run(['dags', 'trigger', 'faults', '--run-id', 'r1']).code).toBe(0);
    const s = background(h, ['scheduler']);
    await waitFor('task a to start', () => Promise.resolve(lines(h, 'a').length > 0 || undefined));
    const filler = fill(d);
    expect(await within(s, 60_000)).toBe(3);
    expect(s.output()).toMatch(
      /error: metadata DB not writable: .* for 2 s \(\[scheduler\] db_unavailable_timeout\): giving up/,
    );
    rmSync(filler);
    const next = background(h, ['scheduler', '--exit-when-idle']);
    expect(await within(next, 60_000)).toBe(0);
    expect(next.output()).toContain("DAG run r1 of 'faults' finished: success");
    expect(lines(h, 'b')).toEqual(['1']);
  }, 90_000);
});

test('a log folder that cannot be written: the try succeeds, its output goes to stderr with a warning', () => {
  const h = new TempHome();
  // A file where the log folder should be: mkdir fails (ENOTDIR), even as root.
  writeFileSync(join(h.home, 'not-a-dir'), '');
  h.writeDag({
    dag_id: 'nolog',
    default_args: { retries: 3, retry_delay: 0 },
    tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'echo hello-from-t', downstream_task_ids: [] }],
  });
  mkdirSync(join(h.home, 'logs'), { recursive: true });
  const r = h.run(['dags', 'test', 'nolog', '2026-01-01'], {
    AIRFLOW__LOGGING__BASE_LOG_FOLDER: join(h.home, 'not-a-dir', 'logs'),
  });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(
    /WARNING cannot write log file .*attempt=1\.log \(.*ENOTDIR.*\): the output of nolog\.t try 1 follows on stderr/,
  );
  expect(r.stderr).toContain('hello-from-t');
  // Succeeded on its first try: no retry burnt.
  expect(r.stdout).toMatch(/│ t +│ success │ 1 +│/);
  expect(r.stdout).toContain('DAG run manual__2026-01-01T00:00:00+00:00: success');
});
