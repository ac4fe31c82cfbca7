/**
 * Redis restarting mid-run loses no finished outcome: a private redis-server (never the shared one)
 * with AOF, restarted (SIGTERM, then started again on the same folder) while tries are in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TempHome } from '../helpers/cli.js';
import { uniqueName } from '../contract/servers.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const TITLE = 'BullMQExecutor across a Redis restart';

interface TaskRow {
  task_id: string;
  state: string;
  try_number: number;
  hostname: string | null;
}

if (!existsSync(REDIS_SERVER)) {
  const why = `SKIPPED: ${REDIS_SERVER} is missing; it is needed to run "${TITLE}"`;
  process.stderr.write(`${why}\n`);
  describe(TITLE, () => test.skip(why, () => undefined));
} else {
  describe(TITLE, () => {
    const procs: ChildProcess[] = [];
    let redis: ChildProcess | null = null;
    const dataDir = mkdtempSync(join(tmpdir(), 'miniflow-redis-'));
    let port = 0;

    /** The private server: append-only file, fsync on every write, no RDB snapshots. */
    async function startRedis(): Promise<void> {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'];
      redis = spawn(REDIS_SERVER, [...args, '--appendfsync', 'always', '--dir', dataDir], { stdio: 'ignore' });
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await waitFor(
          () => ready,
          'the private redis-server to answer',
          async () => {
            ready = await probe
              .connect()
              .then(() => probe.ping())
              .then((r) => r === 'PONG')
              .catch(() => false);
          },
        );
      } finally {
        probe.disconnect();
        ready = false;
      }
    }

    async function stopRedis(): Promise<void> {
      const r = redis;
      if (!r || r.exitCode !== null || r.signalCode !== null) return;
      const closed = new Promise((done) => r.on('close', done));
      if (r.pid !== undefined) process.kill(r.pid, 'SIGTERM'); // a clean shutdown: the AOF is complete
      await closed;
    }

    beforeAll(async () => {
      port = await freePort();
      await startRedis();
    });

    afterAll(async () => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      const r = redis;
      if (r?.pid !== undefined && r.exitCode === null && r.signalCode === null) {
        const closed = new Promise((done) => r.on('close', done));
        process.kill(r.pid, 'SIGKILL');
        await closed;
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('tries in flight while Redis restarts each succeed exactly once, with every outcome recorded', async () => {
      const url = `redis://127.0.0.1:${port}/0`;
      const prefix = uniqueName('mfr');
      const sched = new TempHome({
        AIRFLOW__CORE__EXECUTOR: 'BullMQExecutor',
        AIRFLOW__BULLMQ__REDIS_URL: url,
        AIRFLOW__BULLMQ__QUEUE_PREFIX: prefix,
      });
      const side = join(sched.home, 'runs.txt');
      writeFileSync(side, '');
      const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
      sched.writeDag({
        dag_id: 'restart_redis',
        schedule: null,
        // No retries: an outcome lost in the restart would show as a failed task, not be papered over.
        tasks: ids.map((id) => ({
          task_id: id,
          task_type: 'BashOperator',
          retries: 0,
          bash_command: `echo "${id} $AIRFLOW_CTX_TRY_NUMBER" >> ${side}; sleep 2; echo value-${id}`,
          downstream_task_ids: [],
        })),
      });
      const worker = new TempHome({ AIRFLOW__BULLMQ__REDIS_URL: url, AIRFLOW__BULLMQ__QUEUE_PREFIX: prefix });
      cpSync(sched.dags, worker.dags, { recursive: true });
      const w = worker.start(['worker', '--queues', 'default', '--concurrency', '3', '--hostname', 'w-r']);
      procs.push(w);
      let wOut = '';
      w.stdout?.on('data', (c: Buffer) => (wOut += c.toString()));
      w.stderr?.on('data', (c: Buffer) => (wOut += c.toString()));
      await waitFor(() => wOut.includes('listening on queues'), 'the worker to start');

      const run = sched.start(['dags', 'test', 'restart_redis', '--run-id', 'r1', '-o', 'json']);
      procs.push(run);
      let out = '';
      let err = '';
      run.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      run.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<number | null>((done) => run.on('close', done));

      // Tries are running on the worker: Redis goes away under them, and comes back from its AOF.
      await waitFor(() => lines(side).length >= 2, 'tries to start');
      await stopRedis();
      await new Promise((r) => setTimeout(r, 2500)); // the running tries finish while Redis is down
      await startRedis();

      const code = await exited;
      let data: { state: string; tasks: TaskRow[] };
      try {
        data = JSON.parse(out) as { state: string; tasks: TaskRow[] };
      } catch {
        throw new Error(`dags test did not print JSON (exit ${code}):\n${out}\n${err}\nworker:\n${wOut}`);
      }
      expect(data.state).toBe('success');
      expect(data.tasks.map((t) => [t.task_id, t.state, t.try_number, t.hostname]).sort()).toEqual(
        ids.map((id) => [id, 'success', 1, 'w-r']).sort(),
      );
      expect(lines(side).sort()).toEqual(ids.map((id) => `${id} 1`).sort());
      // Every outcome's return value reached the metadata DB.
      for (const id of ids)
        expect(sched.run(['xcom', 'get', 'restart_redis', 'r1', id]).stdout.trim()).toBe(`"value-${id}"`);
      w.kill('SIGTERM');
    }, 180_000);
  });
}

let ready = false;

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(ok: () => boolean, what: string, refresh?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await refresh?.();
    if (ok()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
