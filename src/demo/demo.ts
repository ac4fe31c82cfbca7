/**
 * `npm run demo`: the ML pipeline of dags/ml_pipeline.json run six times through the real CLI in a
 * fresh AIRFLOW_HOME — cold, warm, with another dag_run.conf model, with an edited input, and with
 * the edit undone, then with its report file deleted — showing which tasks were served from the cache, which ran and why, and the time
 * saved. Ends with `miniflow cache stats`. Colour only on a terminal without NO_COLOR.
 */
import chalk from 'chalk';
import Table from 'cli-table3';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, MiniflowCli } from './cli-runner.js';
import { MissExplainer } from './explain.js';
import { startDemoWeb, type DemoWeb } from './web.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DAG_ID = 'ml_pipeline';
const LOGICAL_DATE = '2026-01-01';

interface TaskJson {
  task_id: string;
  state: string | null;
  duration: number | null;
  cache: {
    decision: string;
    stored: boolean;
    reason: string;
    key: string | null;
    source_run_id: string | null;
    time_saved: number | null;
  };
}
interface RunJson {
  run_id: string;
  state: string;
  tasks: TaskJson[];
}

interface Step {
  title: string;
  what: string;
  conf?: Record<string, unknown>;
  before?: () => void;
  /** A line printed after the step's table. */
  after?: () => string;
}

const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
if (!colour) chalk.level = 0;

/** The file ml_pipeline's report task writes (declared in its cache.outputs). */
function reportFile(home: string): string {
  return join(home, 'dags', 'reports', `${LOGICAL_DATE}.md`);
}

function setUpHome(): { home: string; dagFile: string } {
  const home = mkdtempSync(join(tmpdir(), 'miniflow-demo-'));
  const dags = join(home, 'dags');
  mkdirSync(join(dags, 'callables'), { recursive: true });
  cpSync(join(REPO, 'dags', 'ml_pipeline.json'), join(dags, 'ml_pipeline.json'));
  cpSync(join(REPO, 'dags', 'callables', 'ml'), join(dags, 'callables', 'ml'), { recursive: true });
  return { home, dagFile: join(dags, 'ml_pipeline.json') };
}

function editFeaturesDegree(dagFile: string, degree: number): void {
  const doc = JSON.parse(readFileSync(dagFile, 'utf8')) as {
    dag: { tasks: { task_id: string; op_kwargs: Record<string, unknown> }[] };
  };
  const features = doc.dag.tasks.find((t) => t.task_id === 'features');
  if (!features) throw new Error(`${dagFile} has no task 'features'`);
  features.op_kwargs.degree = degree;
  writeFileSync(dagFile, JSON.stringify(doc, null, 2));
}

function decisionCell(t: TaskJson): string {
  switch (t.cache.decision) {
    case 'hit':
      return chalk.green.bold('HIT ');
    case 'miss':
      return chalk.yellow.bold('RAN ') + chalk.yellow('(miss)');
    case 'bypass':
      return chalk.red('RAN (bypass)');
    default:
      return chalk.gray('RAN (no cache)');
  }
}

function whyCell(t: TaskJson, explainer: MissExplainer): string {
  const c = t.cache;
  if (c.decision === 'miss' && c.reason.startsWith('output '))
    return c.reason.replace(/; stored$/, '; ran to restore it');
  if (c.decision === 'hit') return `served from run ${c.source_run_id}; saved ${(c.time_saved ?? 0).toFixed(3)}s`;
  if (c.decision !== 'miss') return c.reason;
  const changed = explainer.changed(t.task_id, c.key);
  if (changed === null) return c.reason;
  if (changed.length === 0) return 'first run: nothing cached yet';
  return `key changed: ${changed.join(', ')}`;
}

async function main(): Promise<void> {
  const { home, dagFile } = setUpHome();
  const env = cleanEnv({ AIRFLOW_HOME: home, ...(colour ? {} : { NO_COLOR: '1' }) });
  const cli = new MiniflowCli(REPO, env);
  const explainer = new MissExplainer(cli);
  const out = (s = '') => process.stdout.write(s + '\n');
  // --web: the API server and UI beside the demo, so its runs can be watched in a browser.
  let web: DemoWeb | null = null;
  if (process.argv.includes('--web')) {
    // The DB must exist before the server opens it: the first CLI call creates it.
    cli.run(['db', 'migrate']);
    web = await startDemoWeb(REPO, env);
    out(chalk.bold(`Web UI: ${web.url}/dags/${DAG_ID}/grid`) + chalk.dim(` (API token for triggering: ${web.token})`));
  }

  out(chalk.bold('miniflow demo: task result caching on an ML pipeline'));
  out(`AIRFLOW_HOME=${home} (a fresh metadata DB; the DAG is a copy of dags/ml_pipeline.json)`);
  out('Pipeline: fetch (Python) -> features (Node) -> train (Python) -> evaluate (Node) -> report (Python)');

  const steps: Step[] = [
    { title: '1. Cold run', what: 'nothing is cached yet: every task runs and stores its result' },
    {
      title: '2. Warm run',
      what: "same inputs: every task is served from the cache. fetch's request_id (the run id) changed, but it is in exclude_inputs",
    },
    {
      title: '3. Changed conf',
      what: 'dag_run.conf {"model": "lasso"}: train includes dag_run.conf.model in its key, so it and its downstream run again',
      conf: { model: 'lasso' },
    },
    {
      title: '4. Edited input',
      what: "the DAG file's features task now uses degree 3 instead of 2: features runs again, and so does everything fed by its output",
      before: () => editFeaturesDegree(dagFile, 3),
    },
    {
      title: '5. Edit undone',
      what: 'degree 2 again: the entries of step 1 are still there, so the tasks hit; all but report, whose file steps 3 and 4 overwrote (a declared output that changed misses)',
      before: () => editFeaturesDegree(dagFile, 2),
    },
    {
      title: '6. Deleted output',
      what: "reports/2026-01-01.md (declared in report's cache.outputs) deleted: report misses and runs again to restore it; the rest hit",
      before: () => rmSync(reportFile(home)),
      after: () => `reports/${LOGICAL_DATE}.md ${existsSync(reportFile(home)) ? 'is back' : 'is STILL MISSING'}`,
    },
  ];

  let coldMs: number | null = null;
  let failed = false;
  for (const step of steps) {
    step.before?.();
    const args = ['dags', 'test', DAG_ID, LOGICAL_DATE, ...(step.conf ? ['--conf', JSON.stringify(step.conf)] : [])];
    const { data, call } = cli.json<RunJson>(args);
    out('');
    out(chalk.bold.underline(step.title) + ' ' + chalk.dim(`$ miniflow ${args.join(' ')}`));
    out(chalk.dim(step.what));
    if (!data) {
      out(chalk.red(`the run failed to report (exit ${call.code}):\n${call.stderr}`));
      failed = true;
      break;
    }
    for (const t of data.tasks) if (t.cache.decision === 'miss') explainer.remember(t.task_id, t.cache.key);
    const table = new Table({
      head: ['task', 'cache', 'duration (s)', 'why'].map((h) => chalk.bold(h)),
      style: { head: [], border: [], compact: true },
    });
    for (const t of data.tasks)
      table.push([t.task_id, decisionCell(t), t.duration === null ? '' : t.duration.toFixed(3), whyCell(t, explainer)]);
    out(table.toString());
    const hits = data.tasks.filter((t) => t.cache.decision === 'hit');
    const saved = hits.reduce((s, t) => s + (t.cache.time_saved ?? 0), 0);
    coldMs ??= call.ms;
    const stateText = data.state === 'success' ? chalk.green(data.state) : chalk.red(data.state);
    out(
      `run ${data.run_id}: ${stateText}; ${chalk.green.bold(`${hits.length} hit`)}, ${data.tasks.length - hits.length} ran; ` +
        `time saved ${chalk.bold(saved.toFixed(3) + 's')}; command took ${(call.ms / 1000).toFixed(2)}s (cold: ${(coldMs / 1000).toFixed(2)}s)`,
    );
    if (step.after) out(step.after());
    if (data.state !== 'success') failed = true;
  }

  out('');
  out(chalk.bold.underline('Cache statistics') + ' ' + chalk.dim('$ miniflow cache stats'));
  const stats = cli.run(['cache', 'stats']);
  if (stats.code === 0) process.stdout.write(stats.stdout);
  else
    out(
      chalk.dim(
        `(cache stats is not available in this build: ${stats.stderr.trim().split('\n')[0] || `exit ${stats.code}`})`,
      ),
    );
  out('');
  out(chalk.dim(`Explore: AIRFLOW_HOME=${home} ./miniflow cache list --dag-id ${DAG_ID}`));
  if (failed) process.exitCode = 1;
  if (web) {
    out(chalk.bold(`The web UI stays up at ${web.url} — press Ctrl-C to stop it.`));
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    web.stop();
  }
}

await main();
