/**
 * `npm run soak -- --minutes N [--db postgres]`: the crash soak. Triggers runs of a generated DAG
 * (soak-dag.ts) while 2 schedulers (3 on PostgreSQL) work on them, SIGKILLs one scheduler process
 * (not its children) every few seconds and starts a new one, then drains and checks (soak-check.ts):
 * every run succeeded, every task ran once (plus, per kill, at most the PARALLELISM tries the killed
 * scheduler had running, which its successor runs again), nothing is
 * left queued or running, every cache entry is whole. Prints a summary; exits 1 on a violation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createScratchSchema } from '../db/pg-schema.js';
import { DagRunStore } from '../models/dag-run.js';
import { Runtime } from '../runtime.js';
import { packageRoot } from '../util/paths.js';
import { checkSoak } from './soak-check.js';
import { SOAK_DAG_ID, writeSoakDag } from './soak-dag.js';

const DEFAULT_PG = 'postgresql://postgres@127.0.0.1:5432/test';
/** `[core] parallelism` of every soak scheduler: bounds the tries a kill can leave to run again. */
const PARALLELISM = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      db: { type: 'string', default: 'sqlite' },
      'db-url': { type: 'string' },
      'kill-every': { type: 'string', default: '4' },
      keep: { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  const killEvery = Number(values['kill-every']);
  if (!(minutes > 0) || !(killEvery > 0) || !['sqlite', 'postgres'].includes(values.db))
    throw new Error(
      'usage: npm run soak -- --minutes N [--db sqlite|postgres] [--db-url URL] [--kill-every S] [--keep]',
    );
  return { minutes, killEvery, db: values.db as 'sqlite' | 'postgres', dbUrl: values['db-url'], keep: values.keep };
}

async function main(): Promise<number> {
  const o = options();
  const home = mkdtempSync(join(tmpdir(), 'miniflow-soak-'));
  const dags = join(home, 'dags');
  mkdirSync(dags);
  const effects = join(home, 'effects.log');
  const dag = writeSoakDag(dags, effects);
  const schema =
    o.db === 'postgres'
      ? await createScratchSchema(o.dbUrl ?? process.env.MINIFLOW_TEST_POSTGRES_URL ?? DEFAULT_PG, 'mf_soak')
      : null;
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AIRFLOW'))),
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__PARALLELISM: String(PARALLELISM),
    // Recovery at every heartbeat: a killed scheduler's tries are taken back within a second.
    AIRFLOW__SCHEDULER__HEARTBEAT_INTERVAL: '1',
    ...(schema ? { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: schema.url } : {}),
  };
  const log = createWriteStream(join(home, 'schedulers.log'));
  let started = 0;
  const startScheduler = (): ChildProcess => {
    const n = ++started;
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'miniflow.js'), 'scheduler'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = (chunk: Buffer) => log.write(chunk.toString().replace(/^(?=.)/gm, `[s${n}] `));
    child.stdout.on('data', tag);
    child.stderr.on('data', tag);
    return child;
  };

  const rt = await Runtime.open(env);
  const t0 = Date.now();
  let kills = 0;
  let triggered = 0;
  const schedulers = Array.from({ length: o.db === 'postgres' ? 3 : 2 }, startScheduler);
  try {
    const soakDag = await rt.dag(SOAK_DAG_ID);
    const runs = new DagRunStore(rt.db);
    const endAt = t0 + o.minutes * 60_000;
    let nextKill = Date.now() + o.killEvery * 1000 * (0.5 + Math.random());
    while (Date.now() < endAt) {
      const now = new Date();
      await runs.create(
        soakDag,
        { dagId: SOAK_DAG_ID, runId: `soak_${++triggered}`, logicalDate: now, conf: {}, runType: 'manual' },
        now,
      );
      if (Date.now() >= nextKill) {
        const i = Math.floor(Math.random() * schedulers.length);
        schedulers[i].kill('SIGKILL'); // the process alone: its children live on in their own groups
        kills++;
        schedulers[i] = startScheduler();
        nextKill = Date.now() + o.killEvery * 1000 * (0.5 + Math.random());
      }
      await sleep(1000);
    }
    process.stdout.write(`soak: ${triggered} runs triggered, ${kills} kills; draining\n`);
    const drainBy = Date.now() + 300_000;
    while ((await runs.active()).length > 0) {
      if (Date.now() > drainBy) break;
      await sleep(1000);
    }
  } finally {
    for (const s of schedulers) s.kill('SIGTERM');
    await Promise.all(schedulers.map((s) => new Promise((r) => (s.exitCode !== null ? r(0) : s.once('close', r)))));
  }
  const verdict = await checkSoak(rt, dag, effects, kills, PARALLELISM);
  await rt.close();
  log.end();
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  process.stdout.write(
    `soak (${o.db}, ${schedulers.length} schedulers): ${verdict.runs} runs, ${verdict.taskInstances} task instances, ` +
      `${verdict.executions} executions, ${kills} kills, ${verdict.extraExecutions} extra executions, ` +
      `${verdict.cacheEntries} cache entries, ${seconds} s\n`,
  );
  for (const v of verdict.violations.slice(0, 20)) process.stdout.write(`VIOLATION ${v}\n`);
  const failed = verdict.violations.length > 0;
  if (failed || o.keep) process.stdout.write(`soak home kept: ${home} (schedulers.log has every scheduler's output)\n`);
  else rmSync(home, { recursive: true, force: true });
  await schema?.drop();
  process.stdout.write(failed ? `soak FAILED: ${verdict.violations.length} violation(s)\n` : 'soak passed\n');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
