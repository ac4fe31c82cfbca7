// Issue 6, section 1 at the store level, on a real SQLite metadata DB: which task instances a
// restarted scheduler treats as zombies, and what it does with each. The e2e crash test covers
// the running case for real; tries that never started are hard to catch mid-flight, so here the
// dead scheduler's state is built with the real transitions and recoverZombies is called directly.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { DagRunStore } from '../../src/models/dag-run.js';
import { TaskInstanceStore, type TiRef } from '../../src/models/task-instance.js';
import type { TaskInstanceRow } from '../../src/db/rows.js';

const home = mkdtempSync(join(tmpdir(), 'miniflow-zombies-'));
mkdirSync(join(home, 'dags'));
const bash = (id: string, retries: number) => ({
  task_id: id,
  task_type: 'BashOperator',
  bash_command: 'true',
  retries,
  retry_delay: 0,
  downstream_task_ids: [],
});
writeFileSync(
  join(home, 'dags', 'z.json'),
  JSON.stringify({
    __version: 1,
    dag: {
      dag_id: 'z',
      tasks: [
        bash('never_started_scheduled', 1),
        bash('never_started_queued', 0),
        bash('running_retry', 1),
        bash('running_last', 0),
        bash('finished', 0),
        bash('stale_host', 1),
        bash('ended_owner', 0),
        bash('live_other_host', 0),
        bash('mine', 0),
      ],
    },
  }),
);

/** A pid that certainly belongs to no process any more. */
function deadPid(): number {
  return spawnSync('true').pid;
}

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.open({ AIRFLOW_HOME: home, PATH: process.env.PATH });
});
afterAll(async () => rt?.close());

test('recoverZombies resets unstarted tries, retries or fails lost ones, kills orphans, and leaves the rest alone', async () => {
  const registry = await rt.dags();
  const now = rt.clock.now();
  const run = await new DagRunStore(rt.db).create(
    registry.get('z'),
    { dagId: 'z', runId: 'r', logicalDate: now, conf: {}, runType: 'manual' },
    now,
  );
  const tis = new TaskInstanceStore(rt.db);
  const byId = new Map((await tis.forRun('z', run.run_id)).map((t) => [t.task_id, t]));
  const ti = (id: string): TiRef => byId.get(id)!;

  const { scheduler } = await rt.scheduler();
  const jobs = [
    // same host, pid dead: a zombie at once, whatever its heartbeat says
    { id: 'dead', host: hostname(), pid: deadPid(), state: 'running', beat: now.getTime() },
    // another host (pid unknowable): a zombie only once its heartbeat is older than task_heartbeat_timeout (30 s)
    { id: 'stale', host: 'elsewhere', pid: process.pid, state: 'running', beat: now.getTime() - 60_000 },
    { id: 'live', host: 'elsewhere', pid: process.pid, state: 'running', beat: now.getTime() },
    // ended cleanly, yet left a try behind
    { id: 'ended', host: hostname(), pid: process.pid, state: 'ended', beat: now.getTime() },
  ];
  for (const j of jobs) {
    await rt.db.exec(
      'INSERT INTO scheduler_job (id, hostname, pid, state, start_date, latest_heartbeat) VALUES (?, ?, ?, ?, ?, ?)',
      [j.id, j.host, j.pid, j.state, j.beat, j.beat],
    );
  }
  // The dead scheduler's running try left a child behind in its own process group.
  const orphan = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  const orphanGone = new Promise<string | null>((resolve) => orphan.on('exit', (_code, signal) => resolve(signal)));
  try {
    expect(await tis.claim(ti('never_started_scheduled'), 'dead', now)).toBe(true);
    expect(await tis.claim(ti('never_started_queued'), 'dead', now)).toBe(true);
    await tis.markQueued(ti('never_started_queued'), null);
    for (const [id, owner] of [
      ['running_retry', 'dead'],
      ['running_last', 'dead'],
      ['finished', 'dead'],
      ['stale_host', 'stale'],
      ['ended_owner', 'ended'],
      ['live_other_host', 'live'],
    ]) {
      expect(await tis.claim(ti(id), owner, now)).toBe(true);
      await tis.markQueued(ti(id), null);
      await tis.markRunning(
        ti(id),
        id === 'running_retry' ? orphan.pid! : deadPid(),
        jobs.find((j) => j.id === owner)!.host,
        now,
      );
    }
    expect(await tis.succeed(ti('finished'), { start: now, end: now }, 'kept', null)).toBe(true);
    // A try the recovering scheduler owns itself is never its own zombie.
    const self = (scheduler as unknown as { o: { schedulerId: string } }).o.schedulerId;
    expect(await tis.claim(ti('mine'), self, now)).toBe(true);

    expect(await scheduler.recoverZombies()).toBe(6);

    const rows = Object.fromEntries((await tis.fullRows('z', run.run_id)).map((r) => [r.task_id, r])) as Record<
      string,
      TaskInstanceRow
    >;
    // Never started: back to none without using up a try (scheduled or queued, no pid).
    for (const id of ['never_started_scheduled', 'never_started_queued']) {
      expect(rows[id]).toMatchObject({ state: null, try_number: 0, scheduler_id: null, error: null });
    }
    expect(rows.running_retry).toMatchObject({ state: 'up_for_retry', try_number: 1 });
    expect(rows.running_retry.error).toMatch(/^try 1 was lost: its scheduler dead \(pid \d+\) is no longer running$/);
    expect(rows.running_retry.next_retry_at).not.toBeNull();
    expect(rows.running_last).toMatchObject({ state: 'failed', try_number: 1, next_retry_at: null });
    expect(rows.running_last.error).toMatch(/try 1 was lost/);
    expect(rows.stale_host).toMatchObject({ state: 'up_for_retry', try_number: 1 });
    expect(rows.stale_host.error).toMatch(/its scheduler stale has sent no heartbeat since /);
    expect(rows.ended_owner).toMatchObject({ state: 'failed' });
    expect(rows.ended_owner.error).toMatch(/its scheduler ended has exited/);
    // Not zombies: finished, owned by a live scheduler elsewhere, or by the recovering scheduler itself.
    expect(rows.finished).toMatchObject({ state: 'success', try_number: 1, error: null });
    expect(rows.live_other_host).toMatchObject({ state: 'running', error: null });
    expect(rows.mine).toMatchObject({ state: 'scheduled', try_number: 1 });

    // The orphan's process group got SIGKILL, so the retry cannot run beside it.
    const signal = await Promise.race([
      orphanGone,
      new Promise((r) => setTimeout(() => r('still alive after 3 s'), 3000).unref()),
    ]);
    expect(signal).toBe('SIGKILL');

    // A second sweep finds nothing new: each zombie is settled once.
    expect(await scheduler.recoverZombies()).toBe(0);
  } finally {
    orphan.kill('SIGKILL');
  }
});

test('an orphaned-try transition never overwrites a newer try (the guard names owner and try number)', async () => {
  const now = rt.clock.now();
  const registry = await rt.dags();
  const run = await new DagRunStore(rt.db).create(
    registry.get('z'),
    { dagId: 'z', runId: 'guard', logicalDate: now, conf: {}, runType: 'manual' },
    now,
  );
  const tis = new TaskInstanceStore(rt.db);
  const ref = (await tis.forRun('z', run.run_id)).find((t) => t.task_id === 'running_retry')!;
  expect(await tis.claim(ref, 'old', now)).toBe(true);
  const stale = await tis.get('z', 'guard', 'running_retry');
  // Meanwhile the try was settled and a new one claimed by someone else.
  await tis.markQueued(ref, null);
  await tis.fail(ref, { start: now, end: now, error: 'boom' }, now, null);
  const fresh = { ...ref };
  expect(await tis.claim(fresh, 'new', now)).toBe(true);
  expect(await tis.failOrphanedTry(stale, 'lost', null, now)).toBe(false);
  expect(await tis.resetUnstartedTry(stale)).toBe(false);
  expect(await tis.get('z', 'guard', 'running_retry')).toMatchObject({
    state: 'scheduled',
    scheduler_id: 'new',
    try_number: 2,
  });
});
